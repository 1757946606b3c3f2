/*
 * plugin_test.c - instances loaded from a plug-in directory: a good plug-in registers its
 * attester (explicit-only: never auto-selected), a directory with a bad shared object reports
 * VT_ERR_PLUGIN, a missing directory too; the plug-in's evidence goes through the normal
 * verifier dispatch.
 */
#include "core/instance.h"
#include "core/report.h"
#include "vt_test.h"

int main(void)
{
    const char *good = getenv("VERITEE_PLUGIN_TEST_DIR");
    const char *bad = getenv("VERITEE_PLUGIN_BAD_DIR");
    CHECK(good && bad);
    if (!good || !bad)
        return vt_test_done();

    const struct vt_instance_hdr *h = NULL;
    CHECK_ERR(vti_instance_find(VT_KIND_ATTESTER, "test-plugin", &h), VT_ERR_NO_INSTANCE);
    CHECK_ERR(vti_registry_init("/nonexistent/plugins"), VT_ERR_PLUGIN);
    CHECK_ERR(vti_registry_init(bad), VT_ERR_PLUGIN);
    CHECK_OK(vti_registry_init(good));
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "test-plugin", &h));
    if (!h)
        return vt_test_done();
    CHECK(h->kind == VT_KIND_ATTESTER && (h->flags & VT_INST_EXPLICIT));

    /* never auto-selected */
    const struct vt_attester_ops *det = NULL;
    vt_res r = vti_attester_detect(NULL, &det);
    CHECK(r.err != 0 || strcmp(det->hdr.name, "test-plugin") != 0);

    /* its evidence verifies through the registry's dispatch (null evidence, explicitly allowed) */
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
    vt_buf_free(&ev);
    return vt_test_done();
}
