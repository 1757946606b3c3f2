/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.c - one agent connection: attested TLS (mutual: the agent presents evidence), then
 * framed JSON requests (or legacy EAA commands), each answered by the core's request handler
 * (handler.c: appraisal, release, log, audit).
 *
 * Trust boundary: the agent's evidence is verified by libveritee during the handshake; what
 * the broker then trusts is the verified report, reduced once to the appraisal input
 * (input.c). Every request is untrusted bytes: this file only frames them under limits. The
 * reply always says why a request failed; a connection is closed only after an oversized
 * frame (it cannot be resynchronised), after the reply saying so.
 *
 * Time: the handshake, and then each request (waiting for it, reading it, answering it), must
 * be done within --timeout seconds of its start. The deadline is absolute, so a peer that
 * trickles a byte now and then cannot hold a connection (SO_RCVTIMEO alone bounds each recv,
 * not the whole); broker_main.c enforces it by shutting the socket down (struct vtb_deadline).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "brokerd/daemon.h"
#include "broker/handler.h"
#include "policy/input.h"
#include "util/codec.h"
#include "util/secmem.h"

struct agent {
    struct vtb_broker *b;
    struct vtb_deadline *dl;
    vt_conn *c;
    struct vtb_agent_env env;
    struct vtb_agent_peer p;
    struct vtb_report_input ri;
};

/* ---- deadlines ------------------------------------------------------------------------- */

int64_t vtb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next step (a request) must be done within --timeout seconds from now. */
static void set_deadline(struct agent *a, const char *step)
{
    pthread_mutex_lock(&a->b->lock);
    a->dl->at_ms = vtb_now_ms() + a->b->cfg.timeout * 1000;
    a->dl->step = step;
    pthread_mutex_unlock(&a->b->lock);
}

/* Did the deadline cut this connection? (It was logged then.) */
static bool deadline_fired(struct agent *a)
{
    pthread_mutex_lock(&a->b->lock);
    bool fired = a->dl->fired;
    pthread_mutex_unlock(&a->b->lock);
    return fired;
}

/* ---- I/O ------------------------------------------------------------------------------ */

static vt_res read_full(vt_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t got = 0;
        int err = vt_conn_read(c, p + off, n - off, &got);
        ENSURE(err == 0, err);
        ENSURE(got > 0, VT_ERR_CLOSED);
        off += got;
    }
    return vti_ok();
}

static vt_res write_frame(vt_conn *c, const char *s)
{
    ENSURE(s, VT_ERR_NOMEM);
    size_t n = strlen(s);
    ENSURE(n <= VTP_MAX_REPLY, VT_ERR_BROKER_REPLY_TOO_LARGE);
    uint8_t *m = malloc(n + VTP_FRAME_HDR);
    ENSURE(m, VT_ERR_NOMEM);
    vtp_frame_hdr((uint32_t)n, m);
    memcpy(m + VTP_FRAME_HDR, s, n);
    int err = vt_conn_write(c, m, n + VTP_FRAME_HDR);
    vti_memzero(m, n + VTP_FRAME_HDR); /* replies may carry secrets */
    free(m);
    ENSURE(err == 0, err);
    return vti_ok();
}

static vt_res write_raw(vt_conn *c, const char *s)
{
    ENSURE(s, VT_ERR_NOMEM);
    int err = vt_conn_write(c, s, strlen(s));
    ENSURE(err == 0, err);
    return vti_ok();
}

/* ---- the connection loop ---------------------------------------------------------------- */

/* Legacy EAA: one JSON object per TLS record, at most VTP_EAA_MAX_REQUEST bytes. Returns
 * false when the connection is to be closed. */
static bool serve_legacy(struct agent *a, uint8_t first, const char *rid)
{
    uint8_t buf[VTP_EAA_MAX_REQUEST + 1];
    size_t len = 1;
    buf[0] = first;
    for (;;) {
        size_t got = 0;
        json_error_t je;
        json_t *probe = json_loadb((const char *)buf, len, 0, &je);
        if (probe) {
            json_decref(probe);
            break;
        }
        if (len > VTP_EAA_MAX_REQUEST) {
            char why[96];
            snprintf(why, sizeof(why), "request too large (limit %d bytes)",
                     VTP_EAA_MAX_REQUEST);
            vtb_state_log(&a->b->st, "rid=%s peer=%s legacy request refused: %s", rid,
                          a->p.peer, why);
            char *s = vtb_eaa_fail(why);
            if (write_raw(a->c, s).err) { /* the peer is gone; nothing more to say */ }
            free(s);
            return false;
        }
        int err = vt_conn_read(a->c, buf + len, sizeof(buf) - len, &got);
        if (err || got == 0)
            return false;
        len += got;
    }
    char *reply = vtb_agent_reply(&a->env, &a->p, buf, len, true, rid);
    vt_res w = write_raw(a->c, reply ? reply : "{\"status\":\"Fail\",\"data\":{},"
                                               "\"error\":\"internal error\"}");
    vtb_reply_free(reply);
    return !w.err;
}

/* One frame (its first byte already read). Returns false when the connection is to be
 * closed. */
static bool serve_frame(struct agent *a, uint8_t first, const char *rid)
{
    char why[160];
    uint8_t hdr[VTP_FRAME_HDR];
    hdr[0] = first;
    if (read_full(a->c, hdr + 1, 3).err)
        return false;
    uint32_t n = vtp_frame_len(hdr);
    if (n > VTP_MAX_REQUEST || n == 0) {
        if (n)
            snprintf(why, sizeof(why), "request too large: %" PRIu32 " bytes (limit %zu)", n,
                     VTP_MAX_REQUEST);
        else
            snprintf(why, sizeof(why), "malformed request: empty frame");
        vtb_state_log(&a->b->st, "rid=%s peer=%s request refused: %s", rid, a->p.peer, why);
        char *s = vtp_reply_err(NULL, rid, n ? VT_ERR_BROKER_REQUEST_TOO_LARGE
                                             : VT_ERR_BROKER_MALFORMED_REQUEST, why);
        if (write_frame(a->c, s).err) { /* the peer is gone; nothing more to say */ }
        free(s);
        return n == 0; /* cannot resynchronise on an oversized frame */
    }
    uint8_t *body = malloc(n);
    if (!body || read_full(a->c, body, n).err) {
        free(body);
        return false;
    }
    char *reply = vtb_agent_reply(&a->env, &a->p, body, n, false, rid);
    free(body);
    vt_res w = write_frame(a->c, reply);
    vtb_reply_free(reply);
    return !w.err;
}

static void serve_requests(struct agent *a)
{
    struct vtb_broker *b = a->b;
    uint8_t first;
    char rid[32];
    for (;;) {
        if (b->stopping)
            return;
        set_deadline(a, "request");
        if (read_full(a->c, &first, 1).err)
            return; /* closed or timed out */
        vtb_state_rid(&b->st, "", rid);
        bool go_on = first == '{' ? serve_legacy(a, first, rid) : serve_frame(a, first, rid);
        if (!go_on)
            return;
    }
}

/* The verified report -> the peer the handler sees (false: out of memory). */
static bool peer_from_report(struct agent *a)
{
    const vt_report *rep = vt_conn_peer_report(a->c);
    if (!rep)
        return true;
    a->p.insecure = vt_report_insecure(rep);
    if (vtb_input_from_report(rep, &a->ri).err)
        return false;
    a->p.in = &a->ri.in;
    return true;
}

void vtb_serve_agent(struct vtb_broker *b, int fd, const char *peer, struct vtb_deadline *dl)
{
    struct timeval tv = { .tv_sec = b->cfg.timeout, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct agent a = { .b = b, .dl = dl, .env = { .st = &b->st, .allow_sim = b->cfg.allow_sim },
                       .p = { .peer = peer } };
    int err = vt_conn_new(b->ctx, fd, &a.c);
    if (err) {
        vtb_state_log(&b->st, "peer=%s connection failed: %s", peer, vt_strerror(err));
        close(fd);
        return;
    }
    err = vt_conn_handshake(a.c);
    if (err) {
        if (!deadline_fired(&a)) /* else the drop was logged (rate-limited) */
            vtb_state_log(&b->st, "peer=%s attested TLS handshake refused: %s (%s)", peer,
                          vt_conn_error_detail(a.c), vt_errname(err));
        goto out;
    }
    if (!peer_from_report(&a)) {
        vtb_state_log(&b->st, "peer=%s out of memory reading the verified claims", peer);
        goto out;
    }
    const char *tee = a.p.in ? a.p.in->tee : NULL, *tcb = a.p.in ? a.p.in->tcb_status : NULL;
    vtb_state_log(&b->st, "peer=%s attested: tee=%s tcb_status=%s%s", peer, tee ? tee : "-",
                  tcb ? tcb : "-",
                  a.p.insecure ? (b->cfg.allow_sim ? " INSECURE (sim evidence, allow-sim)"
                                                   : " (sim evidence: requests will be refused)")
                               : "");
    serve_requests(&a);
    (void)vt_conn_shutdown(a.c);
out:
    vtb_input_free(&a.ri);
    vt_conn_free(a.c);
    close(fd);
}
