/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostport.h - HOST:PORT addresses of the daemons and their clients (--broker, --listen,
 * --connect, --kbs-listen): parsing, connecting, listening.
 *
 * Grammar: HOST ":" PORT where HOST is a DNS name or IPv4 address (letters, digits, '.',
 * '-', '_'; at most 253 characters), or "[" IPv6 address [ "%" zone ] "]"; PORT is 0..65535
 * in decimal (at most 5 digits). An empty HOST means every interface (listening only).
 * An IPv6 address without brackets is refused (its last ':' would be ambiguous).
 */
#ifndef VT_PROTO_HOSTPORT_H
#define VT_PROTO_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

#define VTP_MAX_HOST 253

struct vtp_hostport {
    char host[VTP_MAX_HOST + 1]; /* without brackets; "" = any interface */
    uint16_t port;
    bool bracketed;              /* given as [IPv6] */
};

/* Errors: VT_ERR_PROTO_ADDR (not HOST:PORT: NULL, no ':', unbalanced or misplaced
 * brackets, an unbracketed IPv6 address), VT_ERR_PROTO_ADDR_HOST (host too long, a
 * character outside the grammar, a bracketed host that is not an IPv6 address),
 * VT_ERR_PROTO_ADDR_PORT (empty, not decimal, above 65535). out is zeroed on failure. */
VT_RESULT vtp_hostport_parse(const char *in, struct vtp_hostport *out);

/* Connect a TCP socket to addr (HOST:PORT, port 1..65535, non-empty host), trying every
 * address it resolves to; TCP_NODELAY, and SO_RCVTIMEO/SO_SNDTIMEO when timeout_s > 0.
 * why (may be NULL) receives the resolver's or the system's reason. Errors: those of
 * vtp_hostport_parse (empty host, port 0: VT_ERR_PROTO_ADDR / VT_ERR_PROTO_ADDR_PORT),
 * VT_ERR_PROTO_RESOLVE, VT_ERR_PROTO_CONNECT (errno is kept for the caller). */
VT_RESULT vtp_tcp_connect(const char *addr, long timeout_s, int *ret_fd, char *why,
                          size_t why_len);

/* Listen on addr (HOST:PORT; empty host: every interface; port 0: the system picks one),
 * SO_REUSEADDR, backlog 128. shown (may be NULL) receives the bound address as numeric
 * "HOST:PORT" ("[v6]:PORT" for IPv6), the chosen port included. Errors: those of
 * vtp_hostport_parse, VT_ERR_PROTO_RESOLVE, VT_ERR_PROTO_LISTEN (errno kept). */
VT_RESULT vtp_tcp_listen(const char *addr, int *ret_fd, char *shown, size_t shown_len,
                         char *why, size_t why_len);

/* SO_RCVTIMEO and SO_SNDTIMEO of secs seconds (nothing when secs <= 0). */
void vtp_sock_timeouts(int fd, long secs);

#endif
