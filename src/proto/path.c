/* SPDX-License-Identifier: Apache-2.0 */
/*
 * path.c - the resource path grammar (no traversal: "..", ".", empty segments, '/' at either
 * end, or characters outside [A-Za-z0-9._-] are refused) and the policy glob over paths.
 * Spec: docs/broker.md (resource paths).
 */
#include "proto/path.h"

#include <string.h>

static bool seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

vt_res vtp_path_check(const char *path)
{
    ENSURE(path, VT_ERR_BROKER_BAD_PATH);
    size_t n = strnlen(path, VTP_MAX_PATH + 1);
    ENSURE(n >= 5 && n <= VTP_MAX_PATH, VT_ERR_BROKER_BAD_PATH);
    int segs = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || path[i] == '/') {
            size_t len = i - start;
            ENSURE(len >= 1 && len <= VTP_MAX_SEGMENT, VT_ERR_BROKER_BAD_PATH);
            ENSURE(!(len == 1 && path[start] == '.'), VT_ERR_BROKER_BAD_PATH);
            ENSURE(!(len == 2 && path[start] == '.' && path[start + 1] == '.'),
                   VT_ERR_BROKER_BAD_PATH);
            segs++;
            start = i + 1;
            continue;
        }
        ENSURE(seg_char(path[i]), VT_ERR_BROKER_BAD_PATH);
    }
    ENSURE(segs == 3, VT_ERR_BROKER_BAD_PATH);
    return vti_ok();
}

vt_res vtp_path_normalize(const char *in, char *out)
{
    ENSURE(in, VT_ERR_BROKER_BAD_PATH);
    if (strncmp(in, "kbs:///", 7) == 0)
        in += 7;
    else if (in[0] == '/')
        in += 1;
    GUARD(vtp_path_check(in));
    size_t n = strlen(in);
    memcpy(out, in, n + 1);
    return vti_ok();
}

/* Match one segment: pattern may contain one '*' matching any (possibly empty) run. */
static bool seg_match(const char *pat, size_t pl, const char *s, size_t sl)
{
    const char *star = memchr(pat, '*', pl);
    if (!star)
        return pl == sl && strncmp(pat, s, pl) == 0;
    size_t pre = (size_t)(star - pat), post = pl - pre - 1;
    if (pre + post > sl)
        return false;
    return strncmp(pat, s, pre) == 0 && strncmp(star + 1, s + sl - post, post) == 0;
}

bool vtp_path_match(const char *pattern, const char *path)
{
    if (!pattern || !path)
        return false;
    const char *p = pattern, *s = path;
    for (;;) {
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (!seg_match(p, pl, s, sl))
            return false;
        if (!pe || !se)
            return !pe && !se;
        p = pe + 1;
        s = se + 1;
    }
}
