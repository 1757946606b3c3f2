/*
 * tls.c - backend-independent pieces of the TLS-wrapper tier: backend lookup. See tls.h.
 */
#include "tls/tls.h"

vt_res vti_tls_get(const char *name, const struct vt_tls_ops **out)
{
    const struct vt_instance_hdr *h = NULL;
    if (name && *name)
        GUARD(vti_instance_find(VT_KIND_TLS, name, &h));
    else
        GUARD(vti_instance_best(VT_KIND_TLS, &h));
    ENSURE(h->kind == VT_KIND_TLS, VT_ERR_INTERNAL);
    *out = (const struct vt_tls_ops *)h;
    return vt_ok();
}
