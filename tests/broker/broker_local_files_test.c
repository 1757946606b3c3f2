/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_local_files_test.c - unit tests of how the broker treats its local files: the
 * master key (all-equal bytes refused; symbolic links followed, as Kubernetes mounts secrets
 * through a ..data link chain, with the mode, owner and type of the file reached checked) and
 * the SQLite key store (an existing store file with group/other bits refused; -wal/-shm
 * created or left behind with group/other bits end up 0600).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/kms.h"
#include "broker/store.h"
#include "util/secmem.h"
#include "vt_test.h"

static const uint8_t good[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

static const char *tpath(const char *name)
{
    static char p[8][512];
    static int slot;
    slot = (slot + 1) % 8;
    snprintf(p[slot], sizeof(p[slot]), "%s/%s", vt_test_tmpdir(), name);
    return p[slot];
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void test_weak_master_key(void)
{
    uint8_t key[32], raw[32];
    memset(raw, 0, sizeof(raw));
    CHECK_OK(vti_file_write(tpath("mk-zero-raw"), raw, 32, 0600));
    memset(key, 0x5a, sizeof(key));
    CHECK_ERR(vtb_master_key_load(tpath("mk-zero-raw"), key), VT_ERR_BROKER_MASTER_KEY_WEAK);
    uint8_t zero[32] = { 0 };
    CHECK(vti_ct_eq(key, zero, 32)); /* a refused key does not linger in the output */
    memset(raw, 0xff, sizeof(raw));
    CHECK_OK(vti_file_write(tpath("mk-ff-raw"), raw, 32, 0600));
    CHECK_ERR(vtb_master_key_load(tpath("mk-ff-raw"), key), VT_ERR_BROKER_MASTER_KEY_WEAK);
    char hex[66];
    for (int i = 0; i < 32; i++)
        memcpy(hex + 2 * i, "00", 2);
    memcpy(hex + 64, "\n", 2);
    CHECK_OK(vti_file_write(tpath("mk-zero-hex"), hex, 65, 0600));
    CHECK_ERR(vtb_master_key_load(tpath("mk-zero-hex"), key), VT_ERR_BROKER_MASTER_KEY_WEAK);
    for (int i = 0; i < 32; i++)
        memcpy(hex + 2 * i, "ab", 2);
    CHECK_OK(vti_file_write(tpath("mk-ab-hex"), hex, 65, 0600));
    CHECK_ERR(vtb_master_key_load(tpath("mk-ab-hex"), key), VT_ERR_BROKER_MASTER_KEY_WEAK);
    /* one byte different (first or last) is not "all equal": accepted */
    memcpy(hex + 62, "ac", 2);
    CHECK_OK(vti_file_write(tpath("mk-ab-last"), hex, 65, 0600));
    CHECK_OK(vtb_master_key_load(tpath("mk-ab-last"), key));
    CHECK(key[0] == 0xab && key[30] == 0xab && key[31] == 0xac);
    memset(raw, 0, sizeof(raw));
    raw[0] = 1;
    CHECK_OK(vti_file_write(tpath("mk-first"), raw, 32, 0600));
    CHECK_OK(vtb_master_key_load(tpath("mk-first"), key));
    /* generated keys load */
    CHECK_OK(vtb_master_key_generate(tpath("mk-gen")));
    CHECK_OK(vtb_master_key_load(tpath("mk-gen"), key));
    vti_memzero(key, sizeof(key));
}

/* dir/..2024_x/master-key, dir/..data -> ..2024_x, dir/master-key -> ..data/master-key */
static void test_master_key_symlinks(void)
{
    uint8_t key[32];
    CHECK(mkdir(tpath("k8s"), 0755) == 0);
    CHECK(mkdir(tpath("k8s/..2024_11_05_10_00_00.123"), 0755) == 0);
    CHECK_OK(vti_file_write(tpath("k8s/..2024_11_05_10_00_00.123/master-key"), good, 32, 0600));
    CHECK(symlink("..2024_11_05_10_00_00.123", tpath("k8s/..data")) == 0);
    CHECK(symlink("..data/master-key", tpath("k8s/master-key")) == 0);
    memset(key, 0, sizeof(key));
    CHECK_OK(vtb_master_key_load(tpath("k8s/master-key"), key));
    CHECK(vti_ct_eq(key, good, 32));
    /* $CREDENTIALS_DIRECTORY pointing at such a directory works the same */
    setenv("CREDENTIALS_DIRECTORY", tpath("k8s"), 1);
    CHECK_OK(vtb_master_key_load(NULL, key));
    unsetenv("CREDENTIALS_DIRECTORY");
    /* the target's mode is what counts: a link to a 0644 file is refused */
    CHECK(chmod(tpath("k8s/..2024_11_05_10_00_00.123/master-key"), 0644) == 0);
    CHECK_ERR(vtb_master_key_load(tpath("k8s/master-key"), key), VT_ERR_BROKER_MASTER_KEY_PERMS);
    CHECK(chmod(tpath("k8s/..2024_11_05_10_00_00.123/master-key"), 0440) == 0);
    CHECK_ERR(vtb_master_key_load(tpath("k8s/master-key"), key), VT_ERR_BROKER_MASTER_KEY_PERMS);
    CHECK(chmod(tpath("k8s/..2024_11_05_10_00_00.123/master-key"), 0400) == 0);
    CHECK_OK(vtb_master_key_load(tpath("k8s/master-key"), key));
    /* a link to a directory, a FIFO (must not hang), a dangling link */
    CHECK(symlink("..data", tpath("k8s/dir-link")) == 0);
    CHECK_ERR(vtb_master_key_load(tpath("k8s/dir-link"), key), VT_ERR_BROKER_MASTER_KEY_NOT_FILE);
    CHECK(mkfifo(tpath("k8s/fifo"), 0600) == 0);
    CHECK(symlink("fifo", tpath("k8s/fifo-link")) == 0);
    CHECK_ERR(vtb_master_key_load(tpath("k8s/fifo-link"), key), VT_ERR_BROKER_MASTER_KEY_NOT_FILE);
    CHECK(symlink("nowhere", tpath("k8s/dangling")) == 0);
    CHECK_ERR(vtb_master_key_load(tpath("k8s/dangling"), key), VT_ERR_NOT_FOUND);
    /* the owner of the target: root or us, not another user (needs root to set up) */
    if (geteuid() == 0) {
        CHECK_OK(vti_file_write(tpath("k8s/other-key"), good, 32, 0600));
        CHECK(chown(tpath("k8s/other-key"), 65534, 65534) == 0);
        CHECK(symlink("other-key", tpath("k8s/other-link")) == 0);
        CHECK_ERR(vtb_master_key_load(tpath("k8s/other-link"), key),
                  VT_ERR_BROKER_MASTER_KEY_OWNER);
        CHECK_ERR(vtb_master_key_load(tpath("k8s/other-key"), key),
                  VT_ERR_BROKER_MASTER_KEY_OWNER);
    } else {
        printf("skipped: master key owned by another user (needs root)\n");
    }
    vti_memzero(key, sizeof(key));
}

static void test_store_modes(void)
{
    struct vtb_store *st = NULL;
    /* a new store under umask 0: the file and SQLite's -wal/-shm are 0600 */
    mode_t old = umask(0);
    const char *db = tpath("new.db");
    CHECK_OK(vtb_store_sqlite.open(db, &st));
    CHECK(mode_of(db) == 0600);
    CHECK(mode_of(tpath("new.db-wal")) == 0600);
    CHECK(mode_of(tpath("new.db-shm")) == 0600);
    if (st)
        vtb_store_sqlite.close(st);
    st = NULL;
    umask(old);
    /* an existing store file with any group/other bit is refused, and left as it was */
    CHECK(chmod(db, 0644) == 0);
    CHECK_ERR(vtb_store_sqlite.open(db, &st), VT_ERR_BROKER_STORE_PERMS);
    CHECK(st == NULL);
    CHECK(mode_of(db) == 0644);
    CHECK(chmod(db, 0604) == 0);
    CHECK_ERR(vtb_store_sqlite.open(db, &st), VT_ERR_BROKER_STORE_PERMS);
    struct vtb_kms *k = NULL;
    CHECK_ERR(vtb_kms_open(&vtb_store_sqlite, db, good, &k), VT_ERR_BROKER_STORE_PERMS);
    CHECK(k == NULL);
    /* -wal/-shm left behind with group/other bits are made 0600 before use */
    CHECK(chmod(db, 0600) == 0);
    CHECK_OK(vti_file_write(tpath("new.db-wal"), "", 0, 0644));
    CHECK(chmod(tpath("new.db-wal"), 0644) == 0);
    CHECK_OK(vti_file_write(tpath("new.db-shm"), "", 0, 0666));
    CHECK(chmod(tpath("new.db-shm"), 0666) == 0);
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, good, &k));
    CHECK(mode_of(tpath("new.db-wal")) == 0600);
    CHECK(mode_of(tpath("new.db-shm")) == 0600);
    vtb_kms_close(k);
    /* group read alone is enough to refuse */
    const char *ro = tpath("ro.db");
    CHECK_OK(vti_file_write(ro, "", 0, 0600));
    CHECK(chmod(ro, 0640) == 0);
    CHECK_ERR(vtb_store_sqlite.open(ro, &st), VT_ERR_BROKER_STORE_PERMS);
}

int main(void)
{
    test_weak_master_key();
    test_master_key_symlinks();
    test_store_modes();
    return vt_test_done();
}
