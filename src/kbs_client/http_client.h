/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_client.h - the KBS client's HTTP/1.1 transport (libevent's evhttp, OpenSSL for https).
 *
 * Why not libcurl: the KBS client runs in the agent, inside the TEE, where memory is scarce;
 * libcurl and the libraries it pulls in (nghttp2, ssh2, rtmp with GnuTLS, krb5, ldap, ...)
 * cost about 4.5 MB of resident memory once loaded, libevent and libevent_openssl about
 * 0.35 MB (issue 16: the agent's peak RSS budget is 10 MB, measured by
 * bench/memory_bench.sh). libevent parses HTTP (status line, headers, Content-Length and
 * chunked bodies, with our limits on header and body size); this file adds what the KBS
 * protocol needs on top: TLS with certificate and host name verification, and the session
 * cookie.
 *
 * One struct vtk_http talks to one origin (scheme, host, port) given by a base URL; requests
 * go to base path + path. Cookies: a Set-Cookie answer's name=value pairs are kept (at most
 * VTK_HTTP_COOKIES, each at most VTK_HTTP_COOKIE_MAX bytes, RFC 6265 token names and
 * cookie-octet values; anything else is ignored) and sent back to the same origin only, for
 * the life of the struct (one protocol run): attributes (Path, Max-Age, HttpOnly, ...) are
 * not needed for that and are not kept. Proxies (http_proxy, https_proxy) are not used.
 * Plain http keeps one connection alive across requests (libevent reconnects when the server
 * has closed it); https makes a new connection (and TLS handshake) for each request.
 */
#ifndef VT_KBS_CLIENT_HTTP_CLIENT_H
#define VT_KBS_CLIENT_HTTP_CLIENT_H

#include <stddef.h>

#include "util/buf.h"
#include "util/result.h"

#define VTK_HTTP_COOKIES 4          /* cookies kept per origin */
#define VTK_HTTP_COOKIE_MAX 512     /* name=value, bytes */
#define VTK_HTTP_HEADERS_MAX 65536  /* response status line and headers, bytes */
#define VTK_HTTP_TIMEOUT_S 60       /* connect, and each read or write */

struct vtk_http;

/* A client for base_url ("http://host[:port][/prefix]" or "https://..."); cacert: PEM file of
 * the CAs trusted for https (NULL: the system's). VT_ERR_INVALID_ARG for a URL that is not
 * http(s) with a host, VT_ERR_CRYPTO if the CA file cannot be loaded. */
VT_RESULT vtk_http_open(const char *base_url, const char *cacert, struct vtk_http **ret);
void vtk_http_close(struct vtk_http *c);

/* One request: POST body (application/json) when body is not NULL, else GET; bearer: an
 * Authorization: Bearer credential or NULL. The answer's status into *status and its body into
 * reply (replaced; at most reply_max bytes). VT_ERR_KBS_HTTP when no complete answer came
 * (connection, TLS or certificate failure, timeout, malformed HTTP, a body over reply_max),
 * with *status 0; VT_ERR_INVALID_ARG for a path that is not absolute or a bearer with CR, LF
 * or other control characters (nothing is sent). */
VT_RESULT vtk_http_request(struct vtk_http *c, const char *path, const char *body,
                           const char *bearer, size_t reply_max, int *status,
                           struct vt_buf *reply);

/* Why the last request failed, in words (for messages: no secret in it); "no error" after a
 * success. */
const char *vtk_http_error(const struct vtk_http *c);

/* Internals, for the tests and the fuzz target: keep the cookie of one Set-Cookie value in
 * jar (false if it was ignored), and the Cookie header value for the jar ("" if empty). */
struct vtk_cookie_jar {
    char kv[VTK_HTTP_COOKIES][VTK_HTTP_COOKIE_MAX]; /* "name=value", "" = free */
};
bool vtk_cookie_take(struct vtk_cookie_jar *jar, const char *set_cookie);
void vtk_cookie_header(const struct vtk_cookie_jar *jar, char *out, size_t out_len);

#endif
