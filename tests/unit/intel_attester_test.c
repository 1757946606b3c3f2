/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_attester_test.c - the real TDX (configfs-tsm) and SGX (Gramine /dev/attestation)
 * attesters run against directories that behave like the devices: for TDX a fake thread
 * populates the new report entry (provider, generation) and answers the 64-byte inblob with
 * an outblob (a sim-tdx quote) and generation + 1; for SGX the directory holds
 * attestation_type and a pre-written quote. Wrong provider and a racing writer are refused.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/instance.h"
#include "vt_test.h"

static char TSM[512];
static struct vt_buf QUOTE;
static const char *PROVIDER = "tdx_guest";
static int GEN_STEP = 1;

static void put(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1200], tmp[1300];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    FILE *f = fopen(tmp, "wb"); /* atomically, as device attributes appear */
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
        rename(tmp, path);
    }
}

static void *fake_tsm(void *arg)
{
    (void)arg;
    for (int i = 0; i < 4000; i++) {
        DIR *d = opendir(TSM);
        struct dirent *de;
        char entry[1100] = "";
        while (d && (de = readdir(d)))
            if (de->d_name[0] != '.')
                snprintf(entry, sizeof(entry), "%s/%s", TSM, de->d_name);
        if (d)
            closedir(d);
        if (entry[0]) {
            put(entry, "generation", "7\n", 2);
            put(entry, "inblob", "", 0);
            put(entry, "provider", PROVIDER, strlen(PROVIDER));
            char in[1200];
            snprintf(in, sizeof(in), "%s/inblob", entry);
            struct stat st;
            for (int k = 0; k < 4000 && !(stat(in, &st) == 0 && st.st_size == 64); k++)
                usleep(500);
            char g[24];
            snprintf(g, sizeof(g), "%d\n", 7 + GEN_STEP);
            put(entry, "generation", g, strlen(g));
            put(entry, "outblob", QUOTE.p, QUOTE.len);
            return NULL;
        }
        usleep(500);
    }
    return NULL;
}

static void clean(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", TSM);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
}

static int tdx_once(struct vt_buf *ev)
{
    const struct vt_instance_hdr *h = NULL;
    if (!vti_is_ok(vti_instance_find(VT_KIND_ATTESTER, "tdx", &h)))
        return -1;
    const struct vt_attester_ops *A = (const struct vt_attester_ops *)h;
    struct vt_option o = { "tdx.tsm_dir", TSM };
    struct vti_attest_ctx ctx = { .options = &o, .n_options = 1 };
    CHECK(A->detect(&ctx));
    pthread_t t;
    pthread_create(&t, NULL, fake_tsm, NULL);
    uint8_t rd[64] = { 1, 2, 3 };
    int e = A->collect(&ctx, rd, ev, NULL).err;
    pthread_join(t, NULL);
    clean();
    return e;
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    /* a real-format quote from sim-tdx as what the "host" returns */
    char sim[600];
    snprintf(sim, sizeof(sim), "%s/sim", vt_test_tmpdir());
    mkdir(sim, 0700);
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim-sgx", &h));
    CHECK_OK(((const struct vt_attester_ops *)h)->sim_init(sim, NULL));
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim-tdx", &h));
    struct vti_attest_ctx sctx = { .sim_dir = sim };
    uint8_t rd[64] = { 0 };
    CHECK_OK(((const struct vt_attester_ops *)h)->collect(&sctx, rd, &QUOTE, NULL));

    snprintf(TSM, sizeof(TSM), "%s/tsm", vt_test_tmpdir());
    mkdir(TSM, 0700);
    struct vt_buf ev = VT_BUF_INIT;
    CHECK_OK(tdx_once(&ev));
    CHECK(ev.len == QUOTE.len && memcmp(ev.p, QUOTE.p, ev.len) == 0);
    vti_buf_free(&ev);
    PROVIDER = "sev_guest";
    CHECK_ERR(tdx_once(&ev), VT_ERR_INTEL_TSM_PROVIDER);
    PROVIDER = "tdx_guest";
    GEN_STEP = 2;
    CHECK_ERR(tdx_once(&ev), VT_ERR_INTEL_TSM_GENERATION);
    vti_buf_free(&ev);
    {
        const struct vt_instance_hdr *t = NULL;
        CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "tdx", &t));
        struct vt_option o[] = { { "tdx.tsm_dir", "/nonexistent/tsm" },
                                 { "tdx.method", "configfs" } };
        struct vti_attest_ctx c = { .options = o, .n_options = 2 };
        CHECK(!((const struct vt_attester_ops *)t)->detect(&c));
        CHECK_ERR(((const struct vt_attester_ops *)t)->collect(&c, rd, &ev, NULL),
                  VT_ERR_INTEL_TSM_UNAVAILABLE);
    }

    /* SGX through a Gramine-like /dev/attestation directory */
    char att[600];
    snprintf(att, sizeof(att), "%s/attestation", vt_test_tmpdir());
    mkdir(att, 0700);
    put(att, "attestation_type", "dcap", 4);
    put(att, "user_report_data", "", 0);
    put(att, "quote", QUOTE.p, QUOTE.len);
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sgx", &h));
    struct vt_option so = { "sgx.attestation_dir", att };
    struct vti_attest_ctx c2 = { .options = &so, .n_options = 1 };
    CHECK(((const struct vt_attester_ops *)h)->detect(&c2));
    uint8_t rd2[64] = { 9 };
    CHECK_OK(((const struct vt_attester_ops *)h)->collect(&c2, rd2, &ev, NULL));
    CHECK(ev.len == QUOTE.len);
    vti_buf_free(&ev);
    put(att, "attestation_type", "epid", 4);
    CHECK_ERR(((const struct vt_attester_ops *)h)->collect(&c2, rd2, &ev, NULL),
              VT_ERR_INTEL_SGX_DEVICE);
    vti_buf_free(&ev);
    vti_buf_free(&QUOTE);
    return vt_test_done();
}
