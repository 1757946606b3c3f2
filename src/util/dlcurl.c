/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dlcurl.c - libcurl on first use (dlcurl.h says why). One dlopen per process, never closed;
 * a library that lacks any of the functions is refused as a whole.
 */
#ifdef VT_HAVE_CURL
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/dlcurl.h"
#include "util/log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct vti_curl api;
static const struct vti_curl *loaded;

/* dlsym into a function pointer: POSIX's idiom (ISO C has no void * to function cast). */
#define SYM(h, field, name) (*(void **)&api.field = dlsym((h), (name))) != NULL

static void load(void)
{
    void *h = dlopen(VT_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        VT_WARN("libcurl not loaded: %s", dlerror());
        return;
    }
    bool all = SYM(h, global_init, "curl_global_init") && SYM(h, easy_init, "curl_easy_init") &&
               SYM(h, easy_setopt, "curl_easy_setopt") &&
               SYM(h, easy_perform, "curl_easy_perform") &&
               SYM(h, easy_getinfo, "curl_easy_getinfo") &&
               SYM(h, easy_cleanup, "curl_easy_cleanup") &&
               SYM(h, easy_strerror, "curl_easy_strerror") &&
               SYM(h, slist_append, "curl_slist_append") &&
               SYM(h, slist_free_all, "curl_slist_free_all");
    if (!all) {
        VT_WARN("libcurl (%s) lacks a function Veritee needs", VT_CURL_SONAME);
        dlclose(h);
        return;
    }
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        VT_WARN("libcurl (%s): curl_global_init failed", VT_CURL_SONAME);
        return;
    }
    loaded = &api;
}

const struct vti_curl *vti_curl(void)
{
    pthread_once(&once, load);
    return loaded;
}

#else
/* Built without libcurl: nothing to load (callers have their own fallbacks). */
typedef int vti_dlcurl_unused;
#endif
