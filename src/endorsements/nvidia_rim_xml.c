/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim_xml.c - loads libxml2 and xmlsec on first use (nvidia_rim_xml.h says why and
 * how). One dlopen per process, never closed; a library that lacks any symbol is refused.
 */
#include <dlfcn.h>
#include <stdbool.h>

#define VTI_XML_LOADER /* the real names, not the table's macros */
#include "endorsements/nvidia_rim_xml.h"
#include "util/log.h"

static struct vti_xml_api api;
const struct vti_xml_api *vti_xml_api;

/* dlsym into a pointer member: POSIX's idiom (ISO C has no void * to function cast). */
#define VTI_XML_SYM(name)                                                                 \
    if (!(*(void **)&api.name = dlsym(h, #name))) {                                       \
        VT_WARN("%s lacks %s", VT_XMLSEC_SONAME, #name);                                  \
        dlclose(h);                                                                        \
        return false;                                                                      \
    }

/* Not thread-safe on its own: vti_rim_xml_init() calls it under pthread_once. */
bool vti_xml_load(void)
{
    void *h = dlopen(VT_XMLSEC_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        VT_WARN("xmlsec not loaded: %s", dlerror());
        return false;
    }
    VTI_XML_SYMS(VTI_XML_SYM)
    vti_xml_api = &api;
    return true;
}
