/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch.h - optional HTTP(S) GET of endorsements (Intel PCCS/PCS, AMD KDS) with an on-disk
 * cache.
 *
 * Everything fetched is untrusted: the caller verifies a fetched or cached object exactly like
 * collateral given as a file. The cache only saves the download.
 *
 * HTTP: libcurl (optional at build time: without it every fetch fails with
 * VT_ERR_UNSUPPORTED). Only http and https, no redirects, connect timeout 5 s, whole transfer
 * 30 s, body at most VTI_FETCH_MAX_BODY bytes, only the response headers asked for are kept.
 *
 * Cache: one file per URL in the cache directory, named by the SHA-256 of the URL (hex),
 * written atomically (vti_file_write: temp file + rename), mode 0600; the directory is created
 * (0700) when missing; an existing directory that is writable by group or others or owned by
 * neither root nor the effective user is refused. Entries are opened without following links
 * and without blocking, and only regular files are read. The file holds a text header (format version, URL, expiry time, the
 * kept response headers, body length, SHA-256 of all of that and the body) then the body. An
 * entry is used only when its URL equals the requested one, the checksum matches and the
 * verification time lies before its expiry as computed again from its content (Intel: the
 * nextUpdate of the piece; AMD: the notAfter of the certificates). Entries are written only
 * after the caller verified what was fetched (vti_fetch_commit). A damaged, foreign or stale entry is a miss: the object is
 * fetched again (and the entry rewritten). A cache entry rewritten with a valid checksum but
 * changed contents is caught by the normal verification of the object.
 */
#ifndef VT_ENDORSEMENTS_FETCH_H
#define VT_ENDORSEMENTS_FETCH_H

#include "util/buf.h"

#define VTI_FETCH_MAX_BODY ((size_t)1 << 20)
#define VTI_FETCH_MAX_HDRS 4
#define VTI_FETCH_MAX_HDR_LEN ((size_t)32 << 10)
#define VTI_FETCH_MAX_URL 2048

/* The error codes a module reports for each kind of failure (its own .def rows). */
struct vti_fetch_errs {
    int connect;    /* no connection, DNS failure, timeout, transfer aborted */
    int not_found;  /* HTTP 404 */
    int http;       /* any other status than 200 */
};

struct vti_fetch_obj {
    long status;
    struct vt_buf body;
    size_t n_hdr;
    char *hdr_name[VTI_FETCH_MAX_HDRS]; /* as asked for */
    char *hdr_val[VTI_FETCH_MAX_HDRS];  /* raw value, surrounding blanks removed */
    bool from_cache;
    int64_t expires;                    /* 0: not cacheable */
};
void vti_fetch_obj_free(struct vti_fetch_obj *o);
/* Value of a kept header (case-insensitive name) or NULL. */
const char *vti_fetch_header(const struct vti_fetch_obj *o, const char *name);

/* Was the library built with an HTTP client? */
bool vti_fetch_available(void);

/* GET url; keep the headers named in keep (NULL-terminated list, may be NULL). A status
 * other than 200 is an error (e->not_found for 404, else e->http). */
VT_RESULT vti_http_get(const char *url, const char *const *keep, const struct vti_fetch_errs *e,
                       struct vti_fetch_obj *out);

/* Cache entry for url that is intact and not expired at time at; VT_ERR_NOT_FOUND on a miss
 * (absent, damaged, other URL, expired). */
VT_RESULT vti_fetch_cache_get(const char *dir, const char *url, int64_t at,
                              struct vti_fetch_obj *out);
/* Store o (its body, headers and o->expires) for url. */
VT_RESULT vti_fetch_cache_put(const char *dir, const char *url, const struct vti_fetch_obj *o);
/* The cache file of url (for tests and docs). */
VT_RESULT vti_fetch_cache_path(const char *dir, const char *url, char *out, size_t outlen);

/* Computes how long a fetched object may be reused (its expiry time); an error leaves the
 * object uncached (it is still returned: verification reports what is wrong with it). */
typedef vt_res (*vti_fetch_expiry_fn)(const struct vti_fetch_obj *o, int64_t *expires);

/* Cache lookup (cache_dir may be NULL; skipped when refresh), else GET. Nothing is written to
 * the cache here: the caller stores an object with vti_fetch_commit (or a batch) only once it
 * verified for the request that fetched it, so a wrong answer never outlives its request.
 * A cached entry is used only when expiry (required for any cache use) computes, from the
 * content itself, a time after at. A cache directory that others could write is refused
 * (VT_ERR_CACHE_UNSAFE). */
VT_RESULT vti_fetch(const char *url, const char *cache_dir, int64_t at, const char *const *keep,
                    vti_fetch_expiry_fn expiry, bool refresh, const struct vti_fetch_errs *e,
                    struct vti_fetch_obj *out);
/* Store a downloaded (not cached) object whose expiry lies after at; a failure is logged. */
void vti_fetch_commit(const char *url, const char *cache_dir, int64_t at,
                      const struct vti_fetch_obj *o);
/* VT_ERR_CACHE_UNSAFE if dir exists and is not a directory only root or the effective user can
 * write to (a missing dir is fine: it is created 0700 when first written). */
VT_RESULT vti_fetch_cache_check_dir(const char *dir);

/* The downloads of one verification, stored only after the caller saw them verify. */
#define VTI_FETCH_BATCH_MAX 8
struct vti_fetch_batch {
    bool refresh;      /* in: bypass the cache when reading (a retry after a failure) */
    bool any_cached;   /* out: some object came from the cache */
    size_t n;
    char *url[VTI_FETCH_BATCH_MAX];
    struct vti_fetch_obj o[VTI_FETCH_BATCH_MAX];
};
/* Record o (fetched for url): a download worth caching is moved into b (o is emptied). */
VT_RESULT vti_fetch_batch_take(struct vti_fetch_batch *b, const char *url, struct vti_fetch_obj *o);
void vti_fetch_batch_commit(struct vti_fetch_batch *b, const char *cache_dir, int64_t at);
/* Frees the objects; keeps b->refresh. */
void vti_fetch_batch_free(struct vti_fetch_batch *b);

/* Percent-decoding (application/x-www-form-urlencoded: '+' is a space too). */
VT_RESULT vti_url_decode(const char *s, size_t n, struct vt_buf *out);

#endif
