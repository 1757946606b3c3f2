/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.c - the broker's configuration: one table of settings, filled from the config file
 * (--config F) and then from command-line flags, which override the file.
 *
 * File format: "name = value" per line; '#' starts a comment line; blank lines ignored;
 * names are the long flag names (listen, store, store-file, master-key, admin-socket, allow-sim,
 * root-ca (repeatable), cert, key, tee, sim-dir, collateral, max-connections,
 * max-connections-per-address, timeout, kbs-listen, kbs-cert, kbs-key, token-lifetime,
 * kbs-session-lifetime, kbs-max-connections, kbs-max-connections-per-address,
 * kbs-request-timeout, kbs-max-sessions-per-address).
 * Trust boundary: the file is the administrator's; still parsed strictly (unknown names and
 * malformed lines are errors, lines at most 4095 bytes). No secret need be in the file: the
 * master key is referenced by path, and a store URL carrying a password can come from a file
 * (store-file, or $CREDENTIALS_DIRECTORY/store-url when no store is set) so that it is not
 * visible in `ps`; the last of store / store-file wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brokerd/daemon.h"
#include "util/log.h"
#include "util/secmem.h"

#define STORE_FILE_MAX 4096

/* The store location from a file (it may carry a password, so it is kept out of the command
 * line): a regular file of one line, no group/other access, at most STORE_FILE_MAX bytes. */
static vt_res store_from_file(struct vtb_config *c, const char *path)
{
    char buf[STORE_FILE_MAX + 1];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        VT_WARN("store file %s: %s", path, strerror(errno));
        return VT_FAIL(VT_ERR_BROKER_CONFIG);
    }
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0)
        n = read(fd, buf, sizeof(buf));
    else
        VT_WARN("store file %s: not a regular file without group/other access", path);
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    vt_res r = vti_ok();
    if (n <= 0 || n > STORE_FILE_MAX || memchr(buf, '\n', (size_t)n) ||
        memchr(buf, 0, (size_t)n)) {
        if (n >= 0)
            VT_WARN("store file %s: want one non-empty line of at most %d bytes", path,
                    STORE_FILE_MAX);
        r = VT_FAIL(VT_ERR_BROKER_CONFIG);
    } else {
        char *d = strndup(buf, (size_t)n);
        if (!d)
            r = VT_FAIL(VT_ERR_NOMEM);
        else {
            vtb_config_wipe_store(c);
            c->store = d;
        }
    }
    vti_memzero(buf, sizeof(buf));
    return r;
}

void vtb_config_wipe_store(struct vtb_config *c)
{
    if (c->store)
        vti_memzero(c->store, strlen(c->store));
    free(c->store);
    c->store = NULL;
}

vt_res vtb_config_store_default(struct vtb_config *c)
{
    const char *dir = secure_getenv("CREDENTIALS_DIRECTORY");
    if (c->store || !dir || !*dir)
        return vti_ok();
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/store-url", dir);
    ENSURE(n > 0 && (size_t)n < sizeof(path), VT_ERR_BROKER_CONFIG);
    if (access(path, F_OK) != 0)
        return vti_ok();
    return store_from_file(c, path);
}

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static vt_res set_str(char **slot, const char *v)
{
    char *d = strdup(v);
    ENSURE(d, VT_ERR_NOMEM);
    free(*slot);
    *slot = d;
    return vti_ok();
}

vt_res vtb_config_set(struct vtb_config *c, const char *name, const char *v)
{
    if (strcmp(name, "listen") == 0)
        return set_str(&c->listen, v);
    if (strcmp(name, "store") == 0) {
        vtb_config_wipe_store(c);
        return set_str(&c->store, v);
    }
    if (strcmp(name, "store-file") == 0)
        return store_from_file(c, v);
    if (strcmp(name, "master-key") == 0)
        return set_str(&c->master_key, v);
    if (strcmp(name, "admin-socket") == 0)
        return set_str(&c->admin_socket, v);
    if (strcmp(name, "cert") == 0)
        return set_str(&c->cert, v);
    if (strcmp(name, "key") == 0)
        return set_str(&c->key, v);
    if (strcmp(name, "tee") == 0)
        return set_str(&c->tee, v);
    if (strcmp(name, "sim-dir") == 0)
        return set_str(&c->sim_dir, v);
    if (strcmp(name, "collateral") == 0)
        return set_str(&c->collateral, v);
    if (strcmp(name, "kbs-listen") == 0)
        return set_str(&c->kbs_listen, v);
    if (strcmp(name, "kbs-cert") == 0)
        return set_str(&c->kbs_cert, v);
    if (strcmp(name, "kbs-key") == 0)
        return set_str(&c->kbs_key, v);
    if (strcmp(name, "token-lifetime") == 0) {
        ENSURE(parse_long(v, 1, 86400, &c->token_lifetime), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "kbs-max-sessions-per-address") == 0) {
        ENSURE(parse_long(v, 1, 1000000, &c->kbs_max_sessions), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "kbs-session-lifetime") == 0) {
        ENSURE(parse_long(v, 1, 86400, &c->kbs_session_lifetime), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "kbs-max-connections") == 0) {
        ENSURE(parse_long(v, 16, 65536, &c->kbs_max_conns), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "kbs-max-connections-per-address") == 0) {
        ENSURE(parse_long(v, 1, 65536, &c->kbs_max_conns_per_addr), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "kbs-request-timeout") == 0) {
        ENSURE(parse_long(v, 1, 3600, &c->kbs_request_timeout), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "root-ca") == 0) {
        ENSURE(c->n_root_ca < VTB_MAX_ROOTS, VT_ERR_BROKER_CONFIG);
        c->root_ca[c->n_root_ca] = strdup(v);
        ENSURE(c->root_ca[c->n_root_ca], VT_ERR_NOMEM);
        c->n_root_ca++;
        return vti_ok();
    }
    if (strcmp(name, "allow-sim") == 0) {
        if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0)
            c->allow_sim = true;
        else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "0") == 0)
            c->allow_sim = false;
        else
            return VT_FAIL(VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "max-connections") == 0) {
        ENSURE(parse_long(v, 1, 4096, &c->max_conns), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "max-connections-per-address") == 0) {
        ENSURE(parse_long(v, 1, 4096, &c->max_per_addr), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    if (strcmp(name, "timeout") == 0) {
        ENSURE(parse_long(v, 1, 3600, &c->timeout), VT_ERR_BROKER_CONFIG);
        return vti_ok();
    }
    return VT_FAIL(VT_ERR_BROKER_CONFIG);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

vt_res vtb_config_load(const char *path, struct vtb_config *cfg, char *why, size_t why_len)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(why, why_len, "%s: cannot open: %s", path, strerror(errno));
        return VT_FAIL(VT_ERR_BROKER_CONFIG);
    }
    char line[4096];
    int no = 0;
    vt_res r = vti_ok();
    while (fgets(line, sizeof(line), f)) {
        no++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(why, why_len, "%s:%d: line too long", path, no);
            r = VT_FAIL(VT_ERR_BROKER_CONFIG);
            break;
        }
        char *s = trim(line);
        if (*s == 0 || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(why, why_len, "%s:%d: want 'name = value'", path, no);
            r = VT_FAIL(VT_ERR_BROKER_CONFIG);
            break;
        }
        *eq = 0;
        char *name = trim(s), *value = trim(eq + 1);
        r = vtb_config_set(cfg, name, value);
        if (r.err) {
            snprintf(why, why_len, "%s:%d: unknown setting or bad value for '%.64s'", path, no,
                     name);
            break;
        }
    }
    fclose(f);
    return r;
}

void vtb_config_free(struct vtb_config *c)
{
    free(c->listen);
    vtb_config_wipe_store(c);
    free(c->master_key);
    free(c->admin_socket);
    free(c->cert);
    free(c->key);
    free(c->tee);
    free(c->sim_dir);
    free(c->collateral);
    free(c->kbs_listen);
    free(c->kbs_cert);
    free(c->kbs_key);
    for (size_t i = 0; i < c->n_root_ca; i++)
        free(c->root_ca[i]);
    memset(c, 0, sizeof(*c));
}
