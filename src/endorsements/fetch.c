/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch.c - HTTP GET of endorsements with an on-disk cache (see fetch.h for the contract).
 *
 * Owns: the libcurl glue (the only network code of the library, used only when a caller
 * configured a PCCS / KDS URL) and the cache file format.
 * Trust boundary: response bodies, response headers and cache files are untrusted bytes. They
 * are bounded here (body, header and file size caps) and parsed with explicit lengths; their
 * meaning is checked by the verifiers.
 */
#include "endorsements/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef VT_HAVE_CURL
#include "util/dlcurl.h"
#include <pthread.h>
#endif

#include "util/codec.h"
#include "util/log.h"
#include "util/secmem.h"

#define CACHE_MAGIC "veritee-fetch-cache 1\n"
#define CACHE_MAX_FILE (VTI_FETCH_MAX_BODY + VTI_FETCH_MAX_HDRS * VTI_FETCH_MAX_HDR_LEN + 8192)

void vti_fetch_obj_free(struct vti_fetch_obj *o)
{
    if (!o)
        return;
    vti_buf_free_nowipe(&o->body);
    for (size_t i = 0; i < o->n_hdr; i++) {
        free(o->hdr_name[i]);
        free(o->hdr_val[i]);
    }
    memset(o, 0, sizeof(*o));
}

const char *vti_fetch_header(const struct vti_fetch_obj *o, const char *name)
{
    for (size_t i = 0; o && i < o->n_hdr; i++)
        if (strcasecmp(o->hdr_name[i], name) == 0)
            return o->hdr_val[i];
    return NULL;
}

static vt_res hdr_add(struct vti_fetch_obj *o, const char *name, size_t nl, const char *val,
                      size_t vl)
{
    ENSURE(o->n_hdr < VTI_FETCH_MAX_HDRS, VT_ERR_TOO_LARGE);
    ENSURE(nl > 0 && vl <= VTI_FETCH_MAX_HDR_LEN, VT_ERR_TOO_LARGE);
    for (size_t i = 0; i < vl; i++)
        ENSURE(val[i] != '\n' && val[i] != '\r' && val[i] != 0, VT_ERR_INVALID_ARG);
    char *n = strndup(name, nl), *v = strndup(val, vl);
    if (!n || !v) {
        free(n);
        free(v);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    o->hdr_name[o->n_hdr] = n;
    o->hdr_val[o->n_hdr] = v;
    o->n_hdr++;
    return vti_ok();
}

vt_res vti_url_decode(const char *s, size_t n, struct vt_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '%') {
            ENSURE(i + 2 < n, VT_ERR_BAD_HEX);
            uint8_t b;
            GUARD(vti_hex_decode_span(s + i + 1, 2, &b, 1));
            GUARD(vti_buf_u8(out, b));
            i += 2;
        } else {
            GUARD(vti_buf_u8(out, c == '+' ? ' ' : c));
        }
    }
    return vti_buf_cstr(out);
}

/* ---- HTTP --------------------------------------------------------------------------- */

#ifdef VT_HAVE_CURL

struct xfer {
    struct vti_fetch_obj *o;
    const char *const *keep;
    bool too_large, bad_header;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *u)
{
    struct xfer *x = u;
    size_t n = sz * nm;
    if (n > VTI_FETCH_MAX_BODY - x->o->body.len) {
        x->too_large = true;
        return 0; /* aborts the transfer */
    }
    return vti_is_ok(vti_buf_append(&x->o->body, p, n)) ? n : 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *u)
{
    struct xfer *x = u;
    size_t n = sz * nm;
    /* a new status line (e.g. after 100 Continue) starts a new header block */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* lint: public (status line) */
        for (size_t i = 0; i < x->o->n_hdr; i++) {
            free(x->o->hdr_name[i]);
            free(x->o->hdr_val[i]);
        }
        x->o->n_hdr = 0;
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon || !x->keep)
        return n;
    size_t nl = (size_t)(colon - p);
    for (const char *const *k = x->keep; *k; k++) {
        if (strlen(*k) != nl || strncasecmp(*k, p, nl) != 0)
            continue;
        const char *v = colon + 1, *e = p + n;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (vti_fetch_header(x->o, *k)) {
            x->bad_header = true; /* repeated: ambiguous */
            return 0;
        }
        if (!vti_is_ok(hdr_add(x->o, *k, nl, v, (size_t)(e - v)))) {
            x->bad_header = true;
            return 0;
        }
    }
    return n;
}

bool vti_fetch_available(void)
{
    return vti_curl() != NULL;
}

vt_res vti_http_get(const char *url, const char *const *keep, const struct vti_fetch_errs *e,
                    struct vti_fetch_obj *out)
{
    memset(out, 0, sizeof(*out));
    ENSURE(url && strlen(url) < VTI_FETCH_MAX_URL, VT_ERR_INVALID_ARG);
    ENSURE(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0,
           VT_ERR_INVALID_ARG);
    const struct vti_curl *C = vti_curl();
    ENSURE(C, VT_ERR_UNSUPPORTED);
    CURL *h = C->easy_init();
    ENSURE(h, VT_ERR_NOMEM);
    out->body.max = VTI_FETCH_MAX_BODY;
    struct xfer x = { .o = out, .keep = keep };
    bool set = C->easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_MAXFILESIZE, (long)VTI_FETCH_MAX_BODY) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_USERAGENT, "veritee") == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_WRITEDATA, &x) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
               C->easy_setopt(h, CURLOPT_HEADERDATA, &x) == CURLE_OK;
    vt_res r = vti_ok();
    if (!set) {
        r = VT_FAIL(VT_ERR_INTERNAL);
        goto out;
    }
    CURLcode rc = C->easy_perform(h);
    if (x.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        r = VT_FAIL(VT_ERR_TOO_LARGE);
        goto out;
    }
    if (x.bad_header) {
        r = VT_FAIL(e->http);
        goto out;
    }
    if (rc != CURLE_OK) {
        VT_DEBUG("GET %s: %s", url, C->easy_strerror(rc));
        r = VT_FAIL(e->connect);
        goto out;
    }
    C->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->status == 404)
        r = VT_FAIL(e->not_found);
    else if (out->status != 200)
        r = VT_FAIL(e->http);
out:
    C->easy_cleanup(h);
    if (!vti_is_ok(r)) {
        long st = out->status;
        vti_fetch_obj_free(out);
        out->status = st;
    }
    return r;
}

#else /* no libcurl */

bool vti_fetch_available(void)
{
    return false;
}

vt_res vti_http_get(const char *url, const char *const *keep, const struct vti_fetch_errs *e,
                    struct vti_fetch_obj *out)
{
    (void)url;
    (void)keep;
    (void)e;
    memset(out, 0, sizeof(*out));
    return VT_FAIL(VT_ERR_UNSUPPORTED);
}

#endif

/* ---- cache -------------------------------------------------------------------------- */

static vt_res sha256(const void *a, size_t al, const void *b, size_t bl, uint8_t out[32])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned int ol = 32;
    bool ok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(m, a, al) == 1 && (bl == 0 || EVP_DigestUpdate(m, b, bl) == 1) &&
              EVP_DigestFinal_ex(m, out, &ol) == 1;
    EVP_MD_CTX_free(m);
    ENSURE(ok, VT_ERR_INTERNAL);
    return vti_ok();
}

vt_res vti_fetch_cache_path(const char *dir, const char *url, char *out, size_t outlen)
{
    ENSURE(dir && *dir && url, VT_ERR_INVALID_ARG);
    uint8_t h[32];
    GUARD(sha256(url, strlen(url), NULL, 0, h));
    char hex[65];
    vti_hex_encode(h, 32, hex);
    int n = snprintf(out, outlen, "%s/%s", dir, hex);
    ENSURE(n > 0 && (size_t)n < outlen, VT_ERR_OVERFLOW);
    return vti_ok();
}

/* Open the cache directory (creating it 0700 when create and missing) and refuse one that
 * someone else could write to: not a directory, group/other-writable, or owned by neither
 * root nor the effective user. -1 with *res VT_ERR_NOT_FOUND when missing and !create. */
static int cache_dir_open(const char *dir, bool create, vt_res *res)
{
    *res = vti_ok();
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            *res = VT_FAIL(VT_ERR_IO);
            return -1;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) {
        *res = VT_FAIL(errno == ENOENT ? VT_ERR_NOT_FOUND
                       : errno == ENOTDIR ? VT_ERR_CACHE_UNSAFE : VT_ERR_IO);
        if (errno == ENOTDIR)
            VT_WARN("fetch cache: %s is not a directory", dir);
        return -1;
    }
    struct stat st;
    bool safe = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 022) == 0 &&
                (st.st_uid == 0 || st.st_uid == geteuid());
    if (!safe) {
        VT_WARN("fetch cache: refusing %s: writable by group or others, or owned by neither "
                "root nor uid %u (mode %o, owner %u)", dir, (unsigned)geteuid(),
                (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
        close(fd);
        *res = VT_FAIL(VT_ERR_CACHE_UNSAFE);
        return -1;
    }
    return fd;
}

vt_res vti_fetch_cache_check_dir(const char *dir)
{
    vt_res r;
    int fd = cache_dir_open(dir, false, &r);
    if (fd >= 0)
        close(fd);
    return r.err == VT_ERR_NOT_FOUND ? vti_ok() : r;
}

vt_res vti_fetch_cache_put(const char *dir, const char *url, const struct vti_fetch_obj *o)
{
    char path[4096];
    GUARD(vti_fetch_cache_path(dir, url, path, sizeof(path)));
    vt_res dr;
    int dfd = cache_dir_open(dir, true, &dr);
    GUARD(dr);
    close(dfd); /* the directory cannot be swapped by others: only root or we can write it */
    ENSURE(!strpbrk(url, "\r\n"), VT_ERR_INVALID_ARG);
    for (size_t i = 0; i < o->n_hdr; i++)
        ENSURE(o->hdr_name[i][0] && !strpbrk(o->hdr_name[i], "\r\n:") &&
                   !strpbrk(o->hdr_val[i], "\r\n"),
               VT_ERR_INVALID_ARG);
    struct vt_buf f = { .max = CACHE_MAX_FILE };
    vt_res r = vti_buf_printf(&f, CACHE_MAGIC "url %s\nexpires %" PRId64 "\n", url, o->expires);
    for (size_t i = 0; vti_is_ok(r) && i < o->n_hdr; i++)
        r = vti_buf_printf(&f, "header %s: %s\n", o->hdr_name[i], o->hdr_val[i]);
    if (vti_is_ok(r))
        r = vti_buf_printf(&f, "body %zu\n", o->body.len);
    uint8_t h[32];
    char hex[65];
    if (vti_is_ok(r))
        r = sha256(f.p, f.len, o->body.p, o->body.len, h);
    if (vti_is_ok(r)) {
        vti_hex_encode(h, 32, hex);
        r = vti_buf_printf(&f, "sha256 %s\n\n", hex);
    }
    if (vti_is_ok(r) && o->body.len)
        r = vti_buf_append(&f, o->body.p, o->body.len);
    if (vti_is_ok(r))
        r = vti_file_write(path, f.p, f.len, 0600);
    vti_buf_free_nowipe(&f);
    return r;
}

/* One '\n'-terminated line starting with prefix: its rest. */
static bool line(const uint8_t *p, size_t len, size_t *off, const char *prefix, const char **rest,
                 size_t *rl)
{
    size_t pl = strlen(prefix);
    const uint8_t *nl = memchr(p + *off, '\n', len - *off);
    if (!nl)
        return false;
    size_t ll = (size_t)(nl - (p + *off));
    if (ll < pl || memcmp(p + *off, prefix, pl) != 0) /* lint: public (format) */
        return false;
    *rest = (const char *)p + *off + pl;
    *rl = ll - pl;
    *off += ll + 1;
    return true;
}

static bool dec_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Parse a cache file; false if it is not an intact entry for url. */
static bool cache_parse(const uint8_t *p, size_t len, const char *url, struct vti_fetch_obj *o)
{
    size_t off = 0, ml = strlen(CACHE_MAGIC), rl;
    const char *rest;
    uint64_t v;
    if (len < ml || memcmp(p, CACHE_MAGIC, ml) != 0) /* lint: public (format) */
        return false;
    off = ml;
    if (!line(p, len, &off, "url ", &rest, &rl) || rl != strlen(url))
        return false;
    if (memcmp(rest, url, rl) != 0) /* lint: public (the URL) */
        return false;
    if (!line(p, len, &off, "expires ", &rest, &rl) || !dec_u64(rest, rl, INT64_MAX, &v))
        return false;
    o->expires = (int64_t)v;
    while (line(p, len, &off, "header ", &rest, &rl)) {
        const char *c = memchr(rest, ':', rl);
        if (!c || c + 1 >= rest + rl || c[1] != ' ')
            return false;
        size_t nl = (size_t)(c - rest);
        if (!vti_is_ok(hdr_add(o, rest, nl, c + 2, rl - nl - 2)))
            return false;
    }
    if (!line(p, len, &off, "body ", &rest, &rl) || !dec_u64(rest, rl, VTI_FETCH_MAX_BODY, &v))
        return false;
    size_t hashed = off;
    uint8_t want[32], got[32];
    if (!line(p, len, &off, "sha256 ", &rest, &rl) ||
        !vti_is_ok(vti_hex_decode_span(rest, rl, want, 32)))
        return false;
    if (off >= len || p[off] != '\n')
        return false;
    off++;
    if (len - off != v)
        return false;
    if (!vti_is_ok(sha256(p, hashed, p + off, (size_t)v, got)) || !vti_ct_eq(want, got, 32))
        return false;
    o->body.max = VTI_FETCH_MAX_BODY;
    return vti_is_ok(vti_buf_append(&o->body, p + off, (size_t)v));
}

/* Read the entry name in dfd: a regular file only (never a FIFO, device, directory or
 * symbolic link: opened non-blocking, without following links, and checked by fstat). */
static vt_res entry_read(int dfd, const char *name, struct vt_buf *f)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    ENSURE(fd >= 0, errno == ENOENT ? VT_ERR_NOT_FOUND : VT_ERR_IO);
    struct stat st;
    vt_res r = vti_ok();
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > CACHE_MAX_FILE) {
        VT_WARN("fetch cache: entry %s is not a regular file of at most %zu bytes: ignored",
                name, (size_t)CACHE_MAX_FILE);
        r = VT_FAIL(VT_ERR_IO);
    }
    f->max = CACHE_MAX_FILE + 1;
    while (vti_is_ok(r)) {
        size_t room = f->max - f->len;
        r = vti_buf_reserve(f, room < 4096 ? room : 4096);
        if (!vti_is_ok(r))
            break;
        ssize_t n = read(fd, f->p + f->len, f->cap - f->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = n == 0 ? vti_ok() : VT_FAIL(VT_ERR_IO);
            break;
        }
        f->len += (size_t)n;
        if (f->len > CACHE_MAX_FILE)
            r = VT_FAIL(VT_ERR_TOO_LARGE);
    }
    close(fd);
    return r;
}

vt_res vti_fetch_cache_get(const char *dir, const char *url, int64_t at, struct vti_fetch_obj *out)
{
    char path[4096];
    memset(out, 0, sizeof(*out));
    GUARD(vti_fetch_cache_path(dir, url, path, sizeof(path)));
    struct vt_buf f = VT_BUF_INIT;
    vt_res r;
    int dfd = cache_dir_open(dir, false, &r);
    GUARD(r);
    r = entry_read(dfd, path + strlen(dir) + 1, &f);
    close(dfd);
    if (!vti_is_ok(r)) {
        vti_buf_free_nowipe(&f);
        return VT_FAIL(VT_ERR_NOT_FOUND);
    }
    bool ok = cache_parse(f.p, f.len, url, out);
    vti_buf_free_nowipe(&f);
    if (!ok) {
        VT_WARN("fetch cache: damaged or foreign entry %s ignored", path);
        vti_fetch_obj_free(out);
        return VT_FAIL(VT_ERR_NOT_FOUND);
    }
    if (at >= out->expires) {
        vti_fetch_obj_free(out);
        return VT_FAIL(VT_ERR_NOT_FOUND);
    }
    out->status = 200;
    out->from_cache = true;
    return vti_ok();
}

/* A cache hit usable at time at: every kept header present, and an expiry computed from the
 * content itself (the stored expiry line is only what the file says) lying after at. */
static bool cache_hit(const char *url, const char *cache_dir, int64_t at, const char *const *keep,
                      vti_fetch_expiry_fn expiry, struct vti_fetch_obj *out, vt_res *err)
{
    *err = vti_fetch_cache_get(cache_dir, url, at, out);
    if (err->err == VT_ERR_CACHE_UNSAFE)
        return false;
    *err = vti_ok();
    if (!out->from_cache)
        return false;
    bool all = expiry != NULL;
    for (const char *const *k = keep; all && k && *k; k++)
        all = vti_fetch_header(out, *k) != NULL;
    int64_t exp = 0;
    if (all && vti_is_ok(expiry(out, &exp)) && at < exp) {
        out->expires = exp;
        return true;
    }
    vti_fetch_obj_free(out);
    return false;
}

vt_res vti_fetch(const char *url, const char *cache_dir, int64_t at, const char *const *keep,
                 vti_fetch_expiry_fn expiry, bool refresh, const struct vti_fetch_errs *e,
                 struct vti_fetch_obj *out)
{
    memset(out, 0, sizeof(*out));
    if (cache_dir && *cache_dir) {
        vt_res r;
        if (refresh)
            GUARD(vti_fetch_cache_check_dir(cache_dir));
        else if (cache_hit(url, cache_dir, at, keep, expiry, out, &r))
            return vti_ok();
        else
            GUARD(r);
    }
    GUARD(vti_http_get(url, keep, e, out));
    out->expires = 0;
    if (expiry && !vti_is_ok(expiry(out, &out->expires)))
        out->expires = 0;
    return vti_ok();
}

void vti_fetch_commit(const char *url, const char *cache_dir, int64_t at,
                      const struct vti_fetch_obj *o)
{
    if (!cache_dir || !*cache_dir || o->from_cache || o->expires <= at)
        return;
    vt_res r = vti_fetch_cache_put(cache_dir, url, o);
    if (!vti_is_ok(r))
        VT_WARN("fetch cache: cannot store %s in %s: %s", url, cache_dir, vt_strerror(r.err));
}

/* ---- batches: what one verification fetched, committed once it verified ------------- */

vt_res vti_fetch_batch_take(struct vti_fetch_batch *b, const char *url, struct vti_fetch_obj *o)
{
    if (o->from_cache)
        b->any_cached = true;
    if (o->from_cache || o->expires <= 0)
        return vti_ok(); /* nothing to store later */
    ENSURE(b->n < VTI_FETCH_BATCH_MAX, VT_ERR_OVERFLOW);
    char *u = strdup(url);
    ENSURE(u, VT_ERR_NOMEM);
    b->url[b->n] = u;
    b->o[b->n] = *o;
    b->n++;
    memset(o, 0, sizeof(*o));
    return vti_ok();
}

void vti_fetch_batch_commit(struct vti_fetch_batch *b, const char *cache_dir, int64_t at)
{
    for (size_t i = 0; b && i < b->n; i++)
        vti_fetch_commit(b->url[i], cache_dir, at, &b->o[i]);
}

void vti_fetch_batch_free(struct vti_fetch_batch *b)
{
    for (size_t i = 0; b && i < b->n; i++) {
        free(b->url[i]);
        vti_fetch_obj_free(&b->o[i]);
    }
    if (b) {
        bool refresh = b->refresh;
        memset(b, 0, sizeof(*b));
        b->refresh = refresh;
    }
}
