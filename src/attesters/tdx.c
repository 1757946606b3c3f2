/*
 * tdx.c - the TDX attester ("tdx"): a quote through the kernel's configfs-tsm report
 * interface (Documentation/ABI/testing/configfs-tsm):
 *   mkdir <tsm_dir>/<entry>; check <entry>/provider == "tdx_guest"; read <entry>/generation;
 *   write 64 bytes to <entry>/inblob; read <entry>/outblob (the quote, produced by the host's
 *   QGS); read generation again (must be +1 after our write: otherwise another writer raced
 *   us); rmdir <entry>.
 * The directory is option "tdx.tsm_dir" (default /sys/kernel/config/tsm/report) so tests run
 * exactly these syscalls against a directory that behaves like the device. /dev/tdx_guest
 * (TDX_CMD_GET_REPORT0) yields only a TDREPORT, which needs the host QGS over vsock to become a
 * quote: not implemented (docs/intel.md). Trust boundary: the outblob is untrusted evidence;
 * it is only checked for plausibility here, verification is the verifier's job.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/instance.h"
#include "evidence/intel_quote.h"

#define TSM_DEFAULT "/sys/kernel/config/tsm/report"

static vt_res read_small(const char *path, char *out, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, VT_ERR_INTEL_TSM_IO);
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    ENSURE(n >= 0, VT_ERR_INTEL_TSM_IO);
    out[n] = 0;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = 0;
    return vt_ok();
}

/* configfs creates an entry's attribute files with the entry; a bounded wait (2 s) lets a
 * test's fake device populate them. On a real system the first stat succeeds. */
static void wait_for(const char *path)
{
    struct stat st;
    for (int i = 0; i < 2000 && stat(path, &st) != 0; i++)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
}

static vt_res gen_of(const char *entry, unsigned long *g)
{
    char p[4200], s[32];
    snprintf(p, sizeof(p), "%s/generation", entry);
    GUARD(read_small(p, s, sizeof(s)));
    char *end = NULL;
    *g = strtoul(s, &end, 10);
    ENSURE(end && end != s && *end == 0, VT_ERR_INTEL_TSM_IO);
    return vt_ok();
}

static bool tdx_detect(const struct vti_attest_ctx *ctx)
{
    struct stat st;
    return stat(vti_option(ctx, "tdx.tsm_dir", TSM_DEFAULT), &st) == 0 && S_ISDIR(st.st_mode);
}

static vt_res tdx_collect(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *ev, struct vt_buf *endo)
{
    (void)endo;
    const char *dir = vti_option(ctx, "tdx.tsm_dir", TSM_DEFAULT);
    char entry[4096], p[4200], prov[64];
    ENSURE((size_t)snprintf(entry, sizeof(entry), "%s/veritee-%ld", dir, (long)getpid()) <
               sizeof(entry), VT_ERR_INVALID_ARG);
    ENSURE(mkdir(entry, 0700) == 0, VT_ERR_INTEL_TSM_UNAVAILABLE);
    vt_res r = vt_ok();
    snprintf(p, sizeof(p), "%s/provider", entry);
    wait_for(p);
    GUARD_GOTO(read_small(p, prov, sizeof(prov)), r, out);
    ENSURE_GOTO(strcmp(prov, "tdx_guest") == 0, VT_ERR_INTEL_TSM_PROVIDER, r, out);
    unsigned long g0 = 0, g1 = 0;
    GUARD_GOTO(gen_of(entry, &g0), r, out);
    snprintf(p, sizeof(p), "%s/inblob", entry);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    ENSURE_GOTO(fd >= 0, VT_ERR_INTEL_TSM_IO, r, out);
    ssize_t w = write(fd, rd, 64);
    close(fd);
    ENSURE_GOTO(w == 64, VT_ERR_INTEL_TSM_IO, r, out);
    snprintf(p, sizeof(p), "%s/outblob", entry);
    wait_for(p);
    ev->len = 0;
    GUARD_GOTO(vt_file_read(p, VT_INTEL_MAX_QUOTE_LEN, ev), r, out);
    GUARD_GOTO(gen_of(entry, &g1), r, out);
    ENSURE_GOTO(g1 == g0 + 1, VT_ERR_INTEL_TSM_GENERATION, r, out);
    ENSURE_GOTO(vt_intel_quote_plausible(ev->p, ev->len), VT_ERR_INTEL_TSM_IO, r, out);
out:
    /* configfs removes the attribute files with the entry; a leftover entry is harmless */
    (void)rmdir(entry);
    return r;
}

static const struct vt_attester_ops tdx_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "tdx", 50, 0 },
    .tee = "tdx",
    .cbor_tag = 60000,
    .detect = tdx_detect,
    .collect = tdx_collect,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_tdx_attester = &tdx_attester.hdr;
