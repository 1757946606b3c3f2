/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_util.h - helpers the benchmarks share (each bench/NAME_bench.c is built alone, so these
 * are static inline): a monotonic clock, reading shared test data, one echo side of an
 * attested connection, a throw-away sim TEE directory and vt_ctx construction over it.
 * Benchmarks exit on setup failures: nothing here returns a half-made result.
 */
#ifndef VT_BENCH_UTIL_H
#define VT_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/instance.h"
#include "util/buf.h"
#include "veritee/veritee.h"

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A file of the shared test data ($VERITEE_TESTDATA, default ../shared/testdata); exits 2 if
 * it cannot be read. */
static inline struct vt_buf bench_testdata(const char *prog, const char *rel)
{
    const char *base = getenv("VERITEE_TESTDATA");
    char p[1024];
    snprintf(p, sizeof(p), "%s/%s", base && *base ? base : "../shared/testdata", rel);
    struct vt_buf b = VT_BUF_INIT;
    if (vti_file_read(p, 1 << 20, &b).err) {
        fprintf(stderr, "%s: cannot read %s (set VERITEE_TESTDATA)\n", prog, p);
        exit(2);
    }
    return b;
}

/* One side of one attested connection on fd: handshake, then one byte each way (the client
 * writes first) so that both sides finish. 0 on success; a failure's detail goes to stderr. */
static inline int bench_vt_side(vt_ctx *ctx, int fd, bool server)
{
    vt_conn *c = NULL;
    int rc = 1;
    char b = 'x';
    size_t got = 0;
    if (vt_conn_new(ctx, fd, &c) != VT_OK || vt_conn_handshake(c) != VT_OK)
        goto out;
    if (server) {
        if (vt_conn_read(c, &b, 1, &got) != VT_OK || got != 1 || vt_conn_write(c, &b, 1) != VT_OK)
            goto out;
    } else {
        if (vt_conn_write(c, &b, 1) != VT_OK || vt_conn_read(c, &b, 1, &got) != VT_OK || got != 1)
            goto out;
    }
    rc = 0;
out:
    if (rc && c)
        fprintf(stderr, "%s: %s\n", server ? "server" : "client", vt_conn_error_detail(c));
    vt_conn_free(c);
    return rc;
}

/* The sim TEE directory of a benchmark and the root-ca.pem in it (bench_sim_setup). */
struct bench_sim {
    char dir[256];
    char root_pem[300];
};

/* `veritee sim init` for the "sim" attester in a fresh /tmp/<prefix>-XXXXXX; exits on failure. */
static inline void bench_sim_setup(struct bench_sim *s, const char *prefix)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        exit(1);
    }
    const struct vt_instance_hdr *h = NULL;
    struct vt_buf pem = VT_BUF_INIT;
    if (vti_instance_find(VT_KIND_ATTESTER, "sim", &h).err ||
        !((const struct vt_attester_ops *)h)->sim_init ||
        ((const struct vt_attester_ops *)h)->sim_init(s->dir, &pem).err) {
        fprintf(stderr, "sim init failed\n");
        exit(1);
    }
    snprintf(s->root_pem, sizeof(s->root_pem), "%s/root-ca.pem", s->dir);
    if (vti_file_write(s->root_pem, pem.p, pem.len, 0600).err)
        exit(1);
    vti_buf_free(&pem);
}

/* Remove the sim directory again. */
static inline void bench_sim_cleanup(const struct bench_sim *s)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}

/* A P-256 context over the sim directory (its root trusted); tls NULL: the default backend.
 * Exits on failure. */
static inline vt_ctx *bench_mkctx(const struct bench_sim *s, const char *tls, enum vt_role role,
                                  const char *attester, bool mutual, bool allow)
{
    const char *roots[1] = { s->root_pem };
    struct vt_config c;
    memset(&c, 0, sizeof(c));
    c.role = role;
    c.tls = tls;
    c.attester = attester;
    c.mutual = mutual;
    c.allow_unattested = allow;
    c.sim_dir = s->dir;
    c.root_ca_files = roots;
    c.n_root_ca_files = 1;
    c.key_type = VT_KEY_P256;
    vt_ctx *ctx = NULL;
    int err = vt_ctx_new(&c, &ctx);
    if (err) {
        fprintf(stderr, "vt_ctx_new(%s): %s\n", tls ? tls : "default TLS", vt_strerror(err));
        exit(1);
    }
    return ctx;
}

#endif
