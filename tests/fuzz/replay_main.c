/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay_main.c - runs a libFuzzer target without libFuzzer: every file of the corpus
 * directory given as argv[1] and of any further (read-only seed) directories, then a bounded
 * number of deterministic mutations of each (bit flips, truncations, length-field overwrites). Used in the normal test suite and under
 * ASan/UBSan; the real libFuzzer build (VT_FUZZ=ON) explores further.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void mutate_run(const uint8_t *p, size_t n)
{
    uint8_t *m = malloc(n ? n : 1);
    if (!m)
        return;
    for (int round = 0; round < 200; round++) {
        memcpy(m, p, n);
        size_t len = n;
        switch (next() % 4) {
        case 0:
            if (n)
                m[next() % n] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 1:
            len = n ? next() % n : 0;
            break;
        case 2:
            if (n >= 4) {
                size_t at = next() % (n - 3);
                uint32_t v = (uint32_t)next();
                memcpy(m + at, &v, 4);
            }
            break;
        default:
            if (n) {
                size_t at = next() % n;
                m[at] = (uint8_t)(next() & 1 ? 0xff : 0x00);
            }
        }
        LLVMFuzzerTestOneInput(m, len);
    }
    free(m);
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "no corpus directory %s\n", dir);
        return -1;
    }
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct vt_buf b = VT_BUF_INIT;
        if (vti_file_read(path, 1u << 20, &b).err)
            continue;
        LLVMFuzzerTestOneInput(b.p, b.len);
        mutate_run(b.p, b.len);
        vti_buf_free(&b);
        files++;
    }
    closedir(d);
    return files;
}

/* argv[1]: the committed corpus; further arguments: read-only seed directories (test data). */
int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [SEED_DIR...]\n", argv[0]);
        return 2;
    }
    int files = 0;
    for (int i = 1; i < argc; i++) {
        int n = replay_dir(argv[i]);
        if (n < 0)
            return 1;
        files += n;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    printf("%d passed, 0 failed\n", files);
    return files > 0 ? 0 : 1;
}
