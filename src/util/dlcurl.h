/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dlcurl.h - libcurl, loaded the first time an HTTP request is made (dlopen), not at program
 * start.
 *
 * Why: libcurl and what it pulls in (nghttp2, ssh2, rtmp with GnuTLS, krb5, ldap, psl, ...)
 * cost about 4.5 MB of resident memory in every process that links them, whether or not it
 * ever makes a request; the agent runs inside the TEE, where memory is scarce, and makes none
 * unless it speaks the KBS protocol or fetches collateral (issue 16: its peak RSS budget is
 * 10 MB). The library loaded is the one found at build time (VT_CURL_SONAME, from pkg-config
 * libcurl); Debian packages name it in Depends, since dpkg-shlibdeps cannot see a dlopen.
 *
 * Used by src/endorsements/fetch.c, src/attesters/az_imds.c and src/kbs_client/client.c: the
 * only callers of libcurl in the library and the agent.
 */
#ifndef VT_UTIL_DLCURL_H
#define VT_UTIL_DLCURL_H

#include <curl/curl.h>

/* The libcurl functions Veritee calls, by their libcurl names without the curl_ prefix. */
struct vti_curl {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *h);
    const char *(*easy_strerror)(CURLcode rc);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
};

/* libcurl, loaded and globally initialised (curl_global_init) once per process; NULL when it
 * cannot be loaded or initialised (the reason is logged once, at warning level). Thread-safe. */
const struct vti_curl *vti_curl(void);

#endif
