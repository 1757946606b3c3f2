/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler.h - the broker's agent request handler: one parsed request from an attested agent
 * -> one reply (framed JSON, or a legacy EAA/Verdictd reply), with the appraisal, the release
 * and its log line and audit record. No sockets: server.c does the I/O, tests call it
 * directly.
 */
#ifndef VT_BROKER_HANDLER_H
#define VT_BROKER_HANDLER_H

#include "broker/state.h"
#include "proto/proto.h"
#include "veritee/veritee.h"

struct vtb_agent_env {
    struct vtb_state *st;
    bool allow_sim; /* accept sim evidence (INSECURE, audited) */
};

/* What the attested TLS handshake established about the agent. */
struct vtb_agent_peer {
    const char *peer;           /* HOST:PORT (logs and audit) */
    bool insecure;              /* sim evidence */
    const struct vtb_input *in; /* from vtb_input_from_report(); NULL: did not attest */
};

/* Answer one parsed request (legacy: an EAA command); the reply may hold a secret: free it
 * with vtb_reply_free(). NULL only when out of memory. */
char *vtb_agent_handle(const struct vtb_agent_env *e, const struct vtb_agent_peer *p,
                       const struct vtp_request *q, bool legacy, const char *rid);
/* Parse one request body (a frame's payload, or a legacy JSON object) and answer it; a
 * malformed request gets the refusal reply (and a log line). */
char *vtb_agent_reply(const struct vtb_agent_env *e, const struct vtb_agent_peer *p,
                      const uint8_t *body, size_t n, bool legacy, const char *rid);
/* A legacy failure reply {"status":"Fail","data":{},"error":why}. */
char *vtb_eaa_fail(const char *why);
/* Free a reply string that may hold a secret (wiped). */
void vtb_reply_free(char *s);

#endif
