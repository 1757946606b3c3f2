/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin_test.c - instances loaded from a plug-in directory:
 *   - a good plug-in registers its attester (explicit-only: never auto-selected), and its
 *     option ("test.mode") becomes known; the load is logged at info level with the path and
 *     the instance names; a directory with a bad shared object reports VT_ERR_PLUGIN, a
 *     missing directory too; the plug-in's evidence goes through the normal verifier dispatch;
 *   - auto-selection never prefers a plug-in over a built-in that fits (verifier, crypto), and
 *     uses a plug-in as the fallback for evidence no built-in handles;
 *   - a plug-in claiming a built-in's name ("intel") is refused whole: VT_ERR_PLUGIN_NAME;
 *   - a directory or file writable by another user (group/other write bit, foreign owner) or a
 *     symbolic link is refused before anything is loaded: VT_ERR_PLUGIN_UNSAFE.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "core/instance.h"
#include "core/report.h"
#include "vt_test.h"

static char logged[2048];

static void capture(enum vt_log_level lvl, const char *msg, void *arg)
{
    (void)arg;
    if (lvl == VT_LOG_INFO && strstr(msg, "loaded plug-in"))
        snprintf(logged, sizeof(logged), "%s", msg);
}

static void good_plugin(const char *good, const char *bad)
{
    const struct vt_instance_hdr *h = NULL;
    struct vt_option mode = { "test.mode", "1" };
    CHECK_ERR(vti_instance_find(VT_KIND_ATTESTER, "test-plugin", &h), VT_ERR_NO_INSTANCE);
    CHECK_ERR(vti_options_check(&mode, 1, NULL), VT_ERR_UNKNOWN_OPTION);
    CHECK_ERR(vti_registry_init("/nonexistent/plugins"), VT_ERR_PLUGIN);
    CHECK_ERR(vti_registry_init(bad), VT_ERR_PLUGIN);
    vt_log_set(capture, NULL, VT_LOG_INFO);
    CHECK_OK(vti_registry_init(good));
    vt_log_set(NULL, NULL, VT_LOG_WARN);
    CHECK(strstr(logged, good) != NULL);
    CHECK(strstr(logged, "attester test-plugin") && strstr(logged, "verifier test-greedy") &&
          strstr(logged, "crypto test-crypto"));
    CHECK_OK(vti_registry_init(good)); /* a directory is loaded once; again is fine */
    CHECK_OK(vti_options_check(&mode, 1, NULL));
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "test-plugin", &h));
    if (!h)
        return;
    CHECK(h->kind == VT_KIND_ATTESTER && (h->flags & VT_INST_EXPLICIT));
    CHECK(vti_instance_is_plugin(h) && vti_instance_knows(h, "test.mode"));

    /* never auto-selected */
    const struct vt_attester_ops *det = NULL;
    vt_res r = vti_attester_detect(NULL, &det);
    CHECK(r.err != 0 || strcmp(det->hdr.name, "test-plugin") != 0);

    /* its evidence verifies through the registry's dispatch (null evidence, explicitly
     * allowed): the built-in null verifier, not the plug-in's greedy one */
    const struct vt_attester_ops *a = (const struct vt_attester_ops *)h;
    uint8_t rd[64];
    memset(rd, 0x5a, sizeof(rd));
    struct vt_buf ev = VT_BUF_INIT;
    CHECK_OK(a->collect(NULL, rd, &ev, NULL));
    struct vt_verify_opts o = { .allow_null = true, .at = 1 };
    vt_report *rep = NULL;
    CHECK_OK(vt_verify(&o, ev.p, ev.len, &rep));
    CHECK(rep && vt_report_insecure(rep) && strcmp(vt_report_tee(rep), "null") == 0);
    vt_report_free(rep);
    rep = NULL;
    o.allow_null = false;
    CHECK_ERR(vt_verify(&o, ev.p, ev.len, &rep), VT_ERR_INSECURE_NOT_ALLOWED);
    vt_report_free(rep);
    vti_buf_free(&ev);
}

static void selection(void)
{
    uint8_t ev[72] = { 0 };
    const struct vt_verifier_ops *v = NULL;
    memcpy(ev, "VTNULL01", 8);
    CHECK_OK(vti_verifier_for(0, ev, sizeof(ev), &v));
    CHECK(v && strcmp(v->hdr.name, "null") == 0 && !vti_instance_is_plugin(&v->hdr));
    memcpy(ev, "VTPLUG01", 8); /* no built-in understands it: the plug-in is the fallback */
    CHECK_OK(vti_verifier_for(0, ev, sizeof(ev), &v));
    CHECK(v && strcmp(v->hdr.name, "test-greedy") == 0);

    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_best(VT_KIND_CRYPTO, &h));
    CHECK(h && !vti_instance_is_plugin(h) && strcmp(h->name, "test-crypto") != 0);
    CHECK_OK(vti_instance_find(VT_KIND_CRYPTO, "test-crypto", &h)); /* when named */
    CHECK(h && vti_instance_is_plugin(h));
}

static void builtin_name(const char *intel)
{
    const struct vt_instance_hdr *h = NULL;
    CHECK_ERR(vti_registry_init(intel), VT_ERR_PLUGIN_NAME);
    CHECK_ERR(vti_instance_find(VT_KIND_ATTESTER, "intel-companion", &h), VT_ERR_NO_INSTANCE);
    CHECK_OK(vti_instance_find(VT_KIND_VERIFIER, "intel", &h));
    CHECK(h && !vti_instance_is_plugin(h) && h->priority < (1 << 30));
    CHECK_ERR(vti_registry_init(intel), VT_ERR_PLUGIN_NAME); /* refused again, not remembered */
}

/* A fresh directory DIR/name holding a copy of so (mode 0644), itself mode 0755. */
static void make_dir(char *out, size_t cap, const char *name, const struct vt_buf *so)
{
    snprintf(out, cap, "%s/%s", vt_test_tmpdir(), name);
    CHECK(mkdir(out, 0755) == 0 && chmod(out, 0755) == 0);
    char f[4096];
    snprintf(f, sizeof(f), "%s/p.so", out);
    CHECK_OK(vti_file_write(f, so->p, so->len, 0644));
    CHECK(chmod(f, 0644) == 0);
}

static void chmod_file(const char *dir, unsigned mode)
{
    char f[4096];
    snprintf(f, sizeof(f), "%s/p.so", dir);
    CHECK(chmod(f, mode) == 0);
}

static void permissions(const char *bad)
{
    char so_path[4096], d[2048], link[4096];
    snprintf(so_path, sizeof(so_path), "%s/vt_bad_plugin.so", bad);
    struct vt_buf so = VT_BUF_INIT;
    CHECK_OK(vti_file_read(so_path, 1u << 24, &so));

    make_dir(d, sizeof(d), "safe", &so); /* passes the checks, then fails as a bad plug-in */
    CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN);
    make_dir(d, sizeof(d), "other-write", &so);
    CHECK(chmod(d, 0757) == 0);
    CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN_UNSAFE);
    CHECK(chmod(d, 01777) == 0); /* sticky does not help */
    CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN_UNSAFE);
    make_dir(d, sizeof(d), "group-write", &so);
    CHECK(chmod(d, 0775) == 0);
    CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN_UNSAFE);
    make_dir(d, sizeof(d), "file-group-write", &so);
    chmod_file(d, 0664);
    CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN_UNSAFE);
    make_dir(d, sizeof(d), "file-other-write", &so);
    chmod_file(d, 0646);
    CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN_UNSAFE);

    snprintf(link, sizeof(link), "%s/link-dir", vt_test_tmpdir());
    make_dir(d, sizeof(d), "link-target", &so);
    CHECK(symlink(d, link) == 0);
    CHECK_ERR(vti_registry_init(link), VT_ERR_PLUGIN_UNSAFE);
    make_dir(d, sizeof(d), "link-file", &so);
    snprintf(link, sizeof(link), "%s/p.so", d);
    CHECK(unlink(link) == 0 && symlink(so_path, link) == 0); /* p.so -> a safe file */
    CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN_UNSAFE);

    if (geteuid() == 0) { /* owner neither root nor the current user: needs chown */
        make_dir(d, sizeof(d), "foreign-dir", &so);
        CHECK(chown(d, 65534, 65534) == 0);
        CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN_UNSAFE);
        make_dir(d, sizeof(d), "foreign-file", &so);
        snprintf(link, sizeof(link), "%s/p.so", d);
        CHECK(chown(link, 65534, 65534) == 0);
        CHECK_ERR(vti_registry_init(d), VT_ERR_PLUGIN_UNSAFE);
    }
    vti_buf_free(&so);
}

int main(void)
{
    const char *good = getenv("VERITEE_PLUGIN_TEST_DIR");
    const char *bad = getenv("VERITEE_PLUGIN_BAD_DIR");
    const char *intel = getenv("VERITEE_PLUGIN_INTEL_DIR");
    CHECK(good && bad && intel);
    if (!good || !bad || !intel)
        return vt_test_done();
    good_plugin(good, bad);
    selection();
    builtin_name(intel);
    permissions(bad);
    return vt_test_done();
}
