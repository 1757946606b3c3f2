/* SPDX-License-Identifier: Apache-2.0 */
/*
 * instance.c - the instance registry: built-ins, plug-ins, selection, option names.
 *
 * The registry is the library's only global mutable state. It is filled once (pthread_once)
 * with the built-ins; plug-in loading and lookups take a mutex. Instances are never removed,
 * so a pointer handed out stays valid for the life of the process.
 *
 * Trust boundary: a plug-in is code run in our process, so it is loaded only from a
 * directory and a file that nobody but root or the current user can write (checked on the
 * opened descriptors: O_NOFOLLOW, then fstat; after dlopen() the path must still be the
 * checked file). A plug-in cannot take a built-in's name, and automatic
 * selection (vti_instance_best, vti_attester_detect, vti_verifier_for) ranks every built-in
 * that fits above every plug-in: a plug-in is used when named, or as a fallback for what no
 * built-in handles. Each loaded plug-in is logged (info) with its path and instance names.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/instance.h"
#include "util/log.h"

#define VT_MAX_INSTANCES 64
#define VT_PLUGIN_MAX_INSTANCES 16 /* instances one plug-in may register */
#define VT_PLUGIN_MAX_DIRS 16      /* directories remembered as loaded */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct vt_instance_hdr *reg[VT_MAX_INSTANCES];
static bool reg_plugin[VT_MAX_INSTANCES]; /* reg[i] came from a plug-in */
static size_t nreg;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

const char *const vti_library_options[] = { "verify.at", NULL };

void vti_register_builtins(void); /* builtin.c */

static bool header_ok(const struct vt_instance_hdr *inst)
{
    return inst && inst->abi == VT_INSTANCE_ABI && (unsigned)inst->kind < VT_KIND__COUNT &&
           inst->name;
}

static void register_locked(const struct vt_instance_hdr *inst, bool plugin)
{
    if (!header_ok(inst)) {
        VT_WARN("ignoring an instance with a bad header");
        return;
    }
    for (size_t i = 0; i < nreg; i++) {
        if (reg[i]->kind == inst->kind && strcmp(reg[i]->name, inst->name) == 0) {
            reg[i] = inst;
            reg_plugin[i] = plugin;
            return;
        }
    }
    if (nreg < VT_MAX_INSTANCES) {
        reg_plugin[nreg] = plugin;
        reg[nreg++] = inst;
    } else {
        VT_WARN("instance registry full; ignoring %s", inst->name);
    }
}

void vti_register(const struct vt_instance_hdr *inst)
{
    pthread_mutex_lock(&reg_lock);
    register_locked(inst, false);
    pthread_mutex_unlock(&reg_lock);
}

static void builtins(void)
{
    vti_register_builtins();
}

/* ---- plug-ins ------------------------------------------------------------------------ */

typedef int (*vt_plugin_init_fn)(int abi, void (*reg)(const struct vt_instance_hdr *));

/* What one plug-in's vt_plugin_init registers, held until the whole plug-in is checked.
 * Guarded by load_lock (one plug-in is initialised at a time). */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const struct vt_instance_hdr *inst[VT_PLUGIN_MAX_INSTANCES];
    size_t n;
    bool overflow;
} staged;
static struct {
    dev_t dev;
    ino_t ino;
} loaded_dirs[VT_PLUGIN_MAX_DIRS];
static size_t n_loaded_dirs;

static void stage_register(const struct vt_instance_hdr *inst)
{
    if (staged.n < VT_PLUGIN_MAX_INSTANCES)
        staged.inst[staged.n++] = inst;
    else
        staged.overflow = true;
}

/* Writable by nobody but root or the current user. */
static bool owner_and_mode_safe(const struct stat *st)
{
    return (st->st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
           (st->st_uid == 0 || st->st_uid == geteuid());
}

static vt_res open_plugin_dir(const char *dir, int *ret_fd, struct stat *st)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        VT_WARN("plug-in directory %s: %s", dir, strerror(errno));
        /* O_NOFOLLOW on a symbolic link: ELOOP (or ENOTDIR with O_DIRECTORY) */
        struct stat lst;
        bool link = lstat(dir, &lst) == 0 && S_ISLNK(lst.st_mode);
        return VT_FAIL(link ? VT_ERR_PLUGIN_UNSAFE : VT_ERR_PLUGIN);
    }
    if (fstat(fd, st) != 0 || !owner_and_mode_safe(st)) {
        VT_WARN("plug-in directory %s: writable by another user (owner %u, mode %03o): refused",
                dir, (unsigned)st->st_uid, (unsigned)(st->st_mode & 0777));
        close(fd);
        return VT_FAIL(VT_ERR_PLUGIN_UNSAFE);
    }
    *ret_fd = fd;
    return vti_ok();
}

static vt_res open_plugin_file(int dfd, const char *path, const char *name, int *ret_fd)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        VT_WARN("plug-in %s: %s", path, strerror(errno));
        return VT_FAIL(errno == ELOOP ? VT_ERR_PLUGIN_UNSAFE : VT_ERR_PLUGIN);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !owner_and_mode_safe(&st)) {
        VT_WARN("plug-in %s: not a regular file writable only by root or the current user: "
                "refused", path);
        close(fd);
        return VT_FAIL(VT_ERR_PLUGIN_UNSAFE);
    }
    *ret_fd = fd;
    return vti_ok();
}

static bool builtin_name_locked(const char *name)
{
    for (size_t i = 0; i < nreg; i++)
        if (!reg_plugin[i] && strcmp(reg[i]->name, name) == 0)
            return true;
    return false;
}

/* Every staged instance must be well-formed, must not use a built-in's name (of any kind),
 * and must not replace another plug-in's instance (re-registering the same one is fine). */
static vt_res check_staged_locked(const char *path)
{
    ENSURE(staged.n > 0 && !staged.overflow, VT_ERR_PLUGIN);
    for (size_t i = 0; i < staged.n; i++) {
        const struct vt_instance_hdr *s = staged.inst[i];
        ENSURE(header_ok(s), VT_ERR_PLUGIN);
        if (builtin_name_locked(s->name)) {
            VT_WARN("plug-in %s: instance name '%s' belongs to a built-in: refused", path, s->name);
            return VT_FAIL(VT_ERR_PLUGIN_NAME);
        }
        for (size_t j = 0; j < nreg; j++) {
            if (reg[j]->kind == s->kind && reg[j] != s && strcmp(reg[j]->name, s->name) == 0) {
                VT_WARN("plug-in %s: instance name '%s' is already taken: refused", path, s->name);
                return VT_FAIL(VT_ERR_PLUGIN_NAME);
            }
        }
    }
    return vti_ok();
}

static void commit_staged_locked(const char *path)
{
    static const char *const kinds[] = { "tls", "crypto", "attester", "verifier" };
    char names[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < staged.n; i++) {
        register_locked(staged.inst[i], true);
        int w = snprintf(names + used, sizeof(names) - used, "%s%s %s", i ? ", " : "",
                         kinds[staged.inst[i]->kind], staged.inst[i]->name);
        if (w > 0 && (size_t)w < sizeof(names) - used)
            used += (size_t)w;
    }
    VT_INFO("loaded plug-in %s: %s", path, names);
}

/* dlopen the checked file by its path (dlopen of /proc/self/fd/N is not usable: the loader
 * matches already-loaded objects by that name). Only root or this user can replace the file
 * in the checked directory; the loaded file must still be the checked one (device, inode). */
static void *open_shared_object(int fd, const char *path)
{
    struct stat checked, now;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        VT_WARN("plug-in %s: %s", path, dlerror());
        return NULL;
    }
    if (fstat(fd, &checked) != 0 || stat(path, &now) != 0 || checked.st_dev != now.st_dev ||
        checked.st_ino != now.st_ino) {
        VT_WARN("plug-in %s: replaced while it was loaded: refused", path);
        dlclose(h);
        return NULL;
    }
    return h;
}

static vt_res load_one(int dfd, const char *dir, const char *name)
{
    char path[4096];
    ENSURE(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path), VT_ERR_PLUGIN);
    int fd = -1;
    GUARD(open_plugin_file(dfd, path, name, &fd));
    void *h = open_shared_object(fd, path);
    close(fd);
    ENSURE(h, VT_ERR_PLUGIN);
    vt_plugin_init_fn init = (vt_plugin_init_fn)dlsym(h, "vt_plugin_init");
    pthread_mutex_lock(&load_lock);
    staged.n = 0;
    staged.overflow = false;
    vt_res r = vti_ok();
    if (!init || init(VT_INSTANCE_ABI, stage_register) != 0) {
        VT_WARN("plug-in %s: no usable vt_plugin_init", path);
        r = VT_FAIL(VT_ERR_PLUGIN);
    } else {
        pthread_mutex_lock(&reg_lock);
        r = check_staged_locked(path);
        if (vti_is_ok(r))
            commit_staged_locked(path);
        pthread_mutex_unlock(&reg_lock);
    }
    pthread_mutex_unlock(&load_lock);
    if (!vti_is_ok(r))
        dlclose(h); /* nothing of it was registered */
    return r;
}

static bool dir_loaded(const struct stat *st)
{
    bool found = false;
    pthread_mutex_lock(&load_lock);
    for (size_t i = 0; i < n_loaded_dirs && !found; i++)
        found = loaded_dirs[i].dev == st->st_dev && loaded_dirs[i].ino == st->st_ino;
    pthread_mutex_unlock(&load_lock);
    return found;
}

static void remember_dir(const struct stat *st)
{
    pthread_mutex_lock(&load_lock);
    if (n_loaded_dirs < VT_PLUGIN_MAX_DIRS) {
        loaded_dirs[n_loaded_dirs].dev = st->st_dev;
        loaded_dirs[n_loaded_dirs].ino = st->st_ino;
        n_loaded_dirs++;
    }
    pthread_mutex_unlock(&load_lock);
}

/* Load every *.so of dir; the others are still tried after a failure, and the first
 * failure is returned. A directory loaded completely is not loaded again. */
static vt_res load_plugins(const char *dir)
{
    int dfd = -1;
    struct stat st;
    GUARD(open_plugin_dir(dir, &dfd, &st));
    if (dir_loaded(&st)) {
        close(dfd);
        return vti_ok();
    }
    int lfd = dup(dfd);
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        close(dfd);
        return VT_FAIL(VT_ERR_PLUGIN);
    }
    vt_res r = vti_ok();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".so") != 0)
            continue;
        vt_res one = load_one(dfd, dir, e->d_name);
        if (!vti_is_ok(one) && vti_is_ok(r))
            r = one;
    }
    closedir(d);
    close(dfd);
    if (vti_is_ok(r))
        remember_dir(&st);
    return r;
}

vt_res vti_registry_init(const char *plugin_dir)
{
    pthread_once(&builtin_once, builtins);
    if (!plugin_dir)
        plugin_dir = secure_getenv("VERITEE_PLUGIN_DIR");
    if (plugin_dir && *plugin_dir)
        GUARD(load_plugins(plugin_dir));
    return vti_ok();
}

/* ---- lookup and selection --------------------------------------------------------------- */

static bool plugin_locked(const struct vt_instance_hdr *inst)
{
    for (size_t i = 0; i < nreg; i++)
        if (reg[i] == inst)
            return reg_plugin[i];
    return false;
}

bool vti_instance_is_plugin(const struct vt_instance_hdr *inst)
{
    pthread_mutex_lock(&reg_lock);
    bool p = plugin_locked(inst);
    pthread_mutex_unlock(&reg_lock);
    return p;
}

/* Automatic selection order: any built-in before any plug-in, then the higher priority. */
static bool preferred(const struct vt_instance_hdr *cand, const struct vt_instance_hdr *best)
{
    if (!best)
        return true;
    bool cp = vti_instance_is_plugin(cand), bp = vti_instance_is_plugin(best);
    if (cp != bp)
        return !cp;
    return cand->priority > best->priority;
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
    return vti_ok();
}

vt_res vti_instance_best(enum vt_kind kind, const struct vt_instance_hdr **out)
{
    const struct vt_instance_hdr *cand[VT_MAX_INSTANCES];
    size_t n = vti_instance_list(kind, cand, VT_MAX_INSTANCES);
    const struct vt_instance_hdr *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (!(cand[i]->flags & VT_INST_EXPLICIT) && preferred(cand[i], best))
            best = cand[i];
    ENSURE(best, VT_ERR_NO_INSTANCE);
    *out = best;
    return vti_ok();
}

vt_res vti_attester_detect(const struct vti_attest_ctx *ctx, const struct vt_attester_ops **out)
{
    const struct vt_instance_hdr *cand[VT_MAX_INSTANCES];
    size_t n = vti_instance_list(VT_KIND_ATTESTER, cand, VT_MAX_INSTANCES);
    const struct vt_attester_ops *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct vt_attester_ops *a = (const struct vt_attester_ops *)cand[i];
        if ((a->hdr.flags & VT_INST_EXPLICIT) || !a->detect || !a->detect(ctx))
            continue;
        if (preferred(&a->hdr, best ? &best->hdr : NULL))
            best = a;
    }
    ENSURE(best, VT_ERR_NO_TEE);
    *out = best;
    return vti_ok();
}

vt_res vti_verifier_for(uint64_t cbor_tag, const uint8_t *ev, size_t len,
                        const struct vt_verifier_ops **out)
{
    const struct vt_instance_hdr *cand[VT_MAX_INSTANCES];
    size_t n = vti_instance_list(VT_KIND_VERIFIER, cand, VT_MAX_INSTANCES);
    const struct vt_verifier_ops *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct vt_verifier_ops *v = (const struct vt_verifier_ops *)cand[i];
        if (!v->accepts || !v->accepts(cbor_tag, ev, len))
            continue;
        if (preferred(&v->hdr, best ? &best->hdr : NULL))
            best = v;
    }
    ENSURE(best, VT_ERR_UNKNOWN_EVIDENCE);
    *out = best;
    return vti_ok();
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

/* ---- options ------------------------------------------------------------------------------ */

static bool in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

bool vti_instance_knows(const struct vt_instance_hdr *inst, const char *name)
{
    return inst && name && in_list(inst->options, name);
}

static bool option_known(const char *name)
{
    if (in_list(vti_library_options, name))
        return true;
    bool known = false;
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nreg && !known; i++)
        known = in_list(reg[i]->options, name);
    pthread_mutex_unlock(&reg_lock);
    return known;
}

vt_res vti_options_check(const struct vt_option *opts, size_t n, size_t *bad)
{
    pthread_once(&builtin_once, builtins);
    ENSURE(n == 0 || opts, VT_ERR_INVALID_ARG);
    for (size_t i = 0; i < n; i++) {
        ENSURE(opts[i].name, VT_ERR_INVALID_ARG);
        if (!option_known(opts[i].name)) {
            if (bad)
                *bad = i;
            return VT_FAIL(VT_ERR_UNKNOWN_OPTION);
        }
    }
    return vti_ok();
}

const char *vti_option(const struct vti_attest_ctx *ctx, const char *name, const char *def)
{
    if (ctx)
        for (size_t i = 0; i < ctx->n_options; i++)
            if (ctx->options[i].name && strcmp(ctx->options[i].name, name) == 0)
                return ctx->options[i].value;
    return def;
}
