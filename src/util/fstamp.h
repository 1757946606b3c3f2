/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fstamp.h - the stamps of a path and, for a directory, of its entries: what a cache of
 * loaded files compares to know that nothing it read has changed since.
 *
 * A stamp is (name, dev, ino, size, mode, mtime and ctime in ns) or "stat failed". A
 * rewritten file shows in ctime even when its size and mtime are put back; an added, removed
 * or renamed entry shows in the directory's own stamps. The entries of a directory are
 * stat'ed relative to a descriptor of it kept open, which is the directory the path names as
 * long as the path's own dev and ino are unchanged (saves a path walk per file). Entries
 * whose name starts with '.' are skipped, as the loaders skip them.
 * Users: src/endorsements/intel_collateral_cache.c, src/verifiers/tpm_ak_certs.c.
 */
#ifndef VT_UTIL_FSTAMP_H
#define VT_UTIL_FSTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vti_fstamp_id {
    char name[256];
    bool ok; /* stat succeeded */
    dev_t dev;
    ino_t ino;
    off_t size;
    mode_t mode;
    int64_t mtime, ctime;
};

struct vti_fstamp {
    char *path;                /* owned */
    int dirfd;                 /* the directory ids[0] names, or -1 */
    size_t n, cap;             /* ids[0]: the path itself */
    struct vti_fstamp_id *ids; /* owned, cap entries */
};

/* A stamp is "settled" when its mtime and ctime are this long before the load began, so a
 * write in the same clock tick as the read cannot hide. */
#define VTI_FSTAMP_RACY_NS 2000000000LL

/* CLOCK_REALTIME in ns (the clock of mtime / ctime). */
int64_t vti_fstamp_now_ns(void);
/* Take the stamps of path and, for a directory, of up to max_entries entries. False when they
 * cannot all be taken (memory, too many entries, a name too long, the directory unreadable):
 * the load must then not be kept. s is zeroed first; free it with vti_fstamp_free either way. */
bool vti_fstamp_take(struct vti_fstamp *s, const char *path, size_t max_entries);
/* The path and every entry as they were taken. */
bool vti_fstamp_same(const struct vti_fstamp *s);
/* Every stamp older than VTI_FSTAMP_RACY_NS before t0_ns (the start of the load). */
bool vti_fstamp_settled(const struct vti_fstamp *s, int64_t t0_ns);
void vti_fstamp_free(struct vti_fstamp *s);

#endif
