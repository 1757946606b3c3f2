/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fstamp.c - stamps of a path and its directory entries (fstamp.h).
 */
#include "util/fstamp.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t ns_of(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int64_t vti_fstamp_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return ns_of(t);
}

/* The stamp of path, relative to dirfd (AT_FDCWD: as given); symbolic links followed. */
static void id_of(int dirfd, const char *path, const char *name, struct vti_fstamp_id *f)
{
    struct stat st;
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    if (fstatat(dirfd, path, &st, 0) != 0)
        return;
    f->ok = true;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mode = st.st_mode;
    f->mtime = ns_of(st.st_mtim);
    f->ctime = ns_of(st.st_ctim);
}

static bool same_id(const struct vti_fstamp_id *a, const struct vti_fstamp_id *b)
{
    return a->ok == b->ok && strcmp(a->name, b->name) == 0 && a->dev == b->dev &&
           a->ino == b->ino && a->size == b->size && a->mode == b->mode &&
           a->mtime == b->mtime && a->ctime == b->ctime;
}

/* The path first: while its dev and ino are the same, it names the directory s->dirfd holds
 * (opened and checked against ids[0] in vti_fstamp_take), so the entries are looked up in it. */
bool vti_fstamp_same(const struct vti_fstamp *s)
{
    struct vti_fstamp_id now;
    if (!s->path || s->n == 0)
        return false;
    id_of(AT_FDCWD, s->path, "", &now);
    if (!same_id(&now, &s->ids[0]))
        return false;
    for (size_t i = 1; i < s->n; i++) {
        if (s->dirfd < 0)
            return false;
        id_of(s->dirfd, s->ids[i].name, s->ids[i].name, &now);
        if (!same_id(&now, &s->ids[i]))
            return false;
    }
    return true;
}

/* A descriptor of the directory id describes (same dev and ino), or -1. */
static int open_dir(const char *path, const struct vti_fstamp_id *id)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_dev != id->dev || st.st_ino != id->ino)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* The stamps of the entries of the directory s->dirfd holds. */
static bool take_entries(struct vti_fstamp *s)
{
    int lfd = s->dirfd >= 0 ? dup(s->dirfd) : -1; /* list that same directory */
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        return false;
    }
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        ok = s->n < s->cap && strlen(de->d_name) < sizeof(s->ids[0].name);
        if (ok)
            id_of(s->dirfd, de->d_name, de->d_name, &s->ids[s->n++]);
    }
    closedir(d);
    return ok;
}

bool vti_fstamp_take(struct vti_fstamp *s, const char *path, size_t max_entries)
{
    memset(s, 0, sizeof(*s));
    s->dirfd = -1;
    if (max_entries >= SIZE_MAX / sizeof(s->ids[0]) - 1)
        return false;
    s->path = strdup(path);
    s->ids = calloc(1 + max_entries, sizeof(s->ids[0]));
    if (!s->path || !s->ids)
        return false;
    s->cap = 1 + max_entries;
    id_of(AT_FDCWD, path, "", &s->ids[0]);
    s->n = 1;
    if (!s->ids[0].ok || !S_ISDIR(s->ids[0].mode))
        return s->ids[0].ok;
    s->dirfd = open_dir(path, &s->ids[0]);
    return take_entries(s);
}

bool vti_fstamp_settled(const struct vti_fstamp *s, int64_t t0)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->ids[i].ok && (s->ids[i].mtime > t0 - VTI_FSTAMP_RACY_NS ||
                             s->ids[i].ctime > t0 - VTI_FSTAMP_RACY_NS))
            return false;
    return true;
}

void vti_fstamp_free(struct vti_fstamp *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    free(s->path);
    free(s->ids);
    memset(s, 0, sizeof(*s));
    s->dirfd = -1;
}
