/*
 * instance.c - the instance registry: built-ins, plug-ins, selection.
 *
 * The registry is the library's only global mutable state. It is filled once (pthread_once)
 * with the built-ins; plug-in loading and lookups take a mutex. Instances are never removed,
 * so a pointer handed out stays valid for the life of the process.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "util/log.h"

#define VT_MAX_INSTANCES 64

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct vt_instance_hdr *reg[VT_MAX_INSTANCES];
static size_t nreg;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

void vti_register_builtins(void); /* builtin.c */

static void register_locked(const struct vt_instance_hdr *inst)
{
    if (!inst || inst->abi != VT_INSTANCE_ABI || (unsigned)inst->kind >= VT_KIND__COUNT ||
        !inst->name) {
        VT_WARN("ignoring an instance with a bad header");
        return;
    }
    for (size_t i = 0; i < nreg; i++) {
        if (reg[i]->kind == inst->kind && strcmp(reg[i]->name, inst->name) == 0) {
            reg[i] = inst;
            return;
        }
    }
    if (nreg < VT_MAX_INSTANCES)
        reg[nreg++] = inst;
    else
        VT_WARN("instance registry full; ignoring %s", inst->name);
}

void vti_register(const struct vt_instance_hdr *inst)
{
    pthread_mutex_lock(&reg_lock);
    register_locked(inst);
    pthread_mutex_unlock(&reg_lock);
}

static void builtins(void)
{
    vti_register_builtins();
}

typedef int (*vt_plugin_init_fn)(int abi, void (*reg)(const struct vt_instance_hdr *));

static vt_res load_plugins(const char *dir)
{
    DIR *d = opendir(dir);
    ENSURE(d, VT_ERR_PLUGIN);
    struct dirent *e;
    vt_res r = vt_ok();
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".so") != 0)
            continue;
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
            continue;
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            VT_WARN("plug-in %s: %s", path, dlerror());
            r = VT_FAIL(VT_ERR_PLUGIN);
            continue;
        }
        vt_plugin_init_fn init = (vt_plugin_init_fn)dlsym(h, "vt_plugin_init");
        if (!init || init(VT_INSTANCE_ABI, vti_register) != 0) {
            VT_WARN("plug-in %s: no usable vt_plugin_init", path);
            dlclose(h);
            r = VT_FAIL(VT_ERR_PLUGIN);
            continue;
        }
        VT_DEBUG("loaded plug-in %s", path);
    }
    closedir(d);
    return r;
}

vt_res vti_registry_init(const char *plugin_dir)
{
    pthread_once(&builtin_once, builtins);
    if (!plugin_dir)
        plugin_dir = secure_getenv("VERITEE_PLUGIN_DIR");
    if (plugin_dir && *plugin_dir)
        GUARD(load_plugins(plugin_dir));
    return vt_ok();
}

vt_res vti_instance_find(enum vt_kind kind, const char *name, const struct vt_instance_hdr **out)
{
    pthread_once(&builtin_once, builtins);
    ENSURE(name, VT_ERR_INVALID_ARG);
    const struct vt_instance_hdr *found = NULL;
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nreg && !found; i++)
        if (reg[i]->kind == kind && strcmp(reg[i]->name, name) == 0)
            found = reg[i];
    pthread_mutex_unlock(&reg_lock);
    ENSURE(found, VT_ERR_NO_INSTANCE);
    *out = found;
    return vt_ok();
}

vt_res vti_instance_best(enum vt_kind kind, const struct vt_instance_hdr **out)
{
    pthread_once(&builtin_once, builtins);
    const struct vt_instance_hdr *best = NULL;
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nreg; i++) {
        if (reg[i]->kind != kind || (reg[i]->flags & VT_INST_EXPLICIT))
            continue;
        if (!best || reg[i]->priority > best->priority)
            best = reg[i];
    }
    pthread_mutex_unlock(&reg_lock);
    ENSURE(best, VT_ERR_NO_INSTANCE);
    *out = best;
    return vt_ok();
}

vt_res vti_attester_detect(const struct vti_attest_ctx *ctx, const struct vt_attester_ops **out)
{
    pthread_once(&builtin_once, builtins);
    const struct vt_instance_hdr *cand[VT_MAX_INSTANCES];
    size_t n = vti_instance_list(VT_KIND_ATTESTER, cand, VT_MAX_INSTANCES);
    const struct vt_attester_ops *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct vt_attester_ops *a = (const struct vt_attester_ops *)cand[i];
        if ((a->hdr.flags & VT_INST_EXPLICIT) || !a->detect || !a->detect(ctx))
            continue;
        if (!best || a->hdr.priority > best->hdr.priority)
            best = a;
    }
    ENSURE(best, VT_ERR_NO_TEE);
    *out = best;
    return vt_ok();
}

vt_res vti_verifier_for(uint64_t cbor_tag, const uint8_t *ev, size_t len,
                        const struct vt_verifier_ops **out)
{
    pthread_once(&builtin_once, builtins);
    const struct vt_instance_hdr *cand[VT_MAX_INSTANCES];
    size_t n = vti_instance_list(VT_KIND_VERIFIER, cand, VT_MAX_INSTANCES);
    const struct vt_verifier_ops *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct vt_verifier_ops *v = (const struct vt_verifier_ops *)cand[i];
        if (!v->accepts || !v->accepts(cbor_tag, ev, len))
            continue;
        if (!best || v->hdr.priority > best->hdr.priority)
            best = v;
    }
    ENSURE(best, VT_ERR_UNKNOWN_EVIDENCE);
    *out = best;
    return vt_ok();
}

size_t vti_instance_list(enum vt_kind kind, const struct vt_instance_hdr **out, size_t max)
{
    pthread_once(&builtin_once, builtins);
    size_t k = 0;
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nreg && k < max; i++)
        if (reg[i]->kind == kind)
            out[k++] = reg[i];
    pthread_mutex_unlock(&reg_lock);
    return k;
}

const char *vti_option(const struct vti_attest_ctx *ctx, const char *name, const char *def)
{
    if (ctx)
        for (size_t i = 0; i < ctx->n_options; i++)
            if (ctx->options[i].name && strcmp(ctx->options[i].name, name) == 0)
                return ctx->options[i].value;
    return def;
}
