/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto.h - the wire protocols shared by the daemons and their clients (src/proto, the
 * `vtproto` static library): one header per concern, included together here.
 *
 *   frame.h        4-byte big-endian length framing over a vt_conn or a socket
 *   json.h         bounded JSON parsing (depth, duplicate keys, NUL), byte fields
 *   path.h         resource paths <repo>/<type>/<tag>
 *   wrapped.h      the wrapped-key annotation
 *   request.h      the broker's agent requests (framed and legacy EAA) and replies
 *   keyprovider.h  ocicrypt key-provider messages (keywrap / keyunwrap)
 *   hostport.h     HOST:PORT parsing, TCP connect and listen
 *
 * Dependencies: the library's util tier and jansson only, so that every daemon, the agent,
 * the tool, the tests and the fuzz targets link the same code. Trust boundary: every byte
 * parsed here comes from an unauthenticated or merely attested peer; parsers bound sizes,
 * depths and counts and report a precise reason (never the peer's bytes) on failure.
 */
#ifndef VT_PROTO_PROTO_H
#define VT_PROTO_PROTO_H

#include "proto/frame.h"
#include "proto/hostport.h"
#include "proto/json.h"
#include "proto/keyprovider.h"
#include "proto/path.h"
#include "proto/request.h"
#include "proto/wrapped.h"

#endif
