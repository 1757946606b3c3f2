/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vt_test.c - the harness's helpers (see vt_test.h).
 */
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "vt_test.h"

int vt_test_passed, vt_test_failed;

const char *vt_testdata(const char *rel)
{
    static _Thread_local char path[4096];
    const char *base = getenv("VERITEE_TESTDATA");
    if (!base || !*base)
        base = VT_DEFAULT_TESTDATA;
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    return path;
}

struct vt_buf vt_testdata_read(const char *rel)
{
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = vti_file_read(vt_testdata(rel), 16u << 20, &b);
    if (r.err) {
        fprintf(stderr, "cannot read test data %s: %s\n", vt_testdata(rel), vt_strerror(r.err));
        exit(2);
    }
    return b;
}

void vt_test_write_file(const char *path, const struct vt_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->p, 1, b->len, f) != b->len) {
        perror(path);
        exit(2);
    }
    if (fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

json_t *vt_test_cases(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(vt_testdata("cases.json"), 0, &jerr);
    if (!root) {
        vt_test_failed++;
        fprintf(stderr, "FAIL cannot load %s: %s (line %d)\n", vt_testdata("cases.json"),
                jerr.text, jerr.line);
    }
    return root;
}

const char *vt_test_tmpdir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/vt-test-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return dir;
}

int vt_test_done(void)
{
    printf("%d passed, %d failed\n", vt_test_passed, vt_test_failed);
    return vt_test_failed ? 1 : 0;
}
