/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_cookie_fuzz.c - fuzz target for the KBS client's cookie jar (src/kbs_client/
 * http_client.c, vtk_cookie_take): the input, split at '\n', is a series of Set-Cookie header
 * values from a hostile server. Whatever was kept must be a well-formed name=value under
 * VTK_HTTP_COOKIE_MAX bytes (a token name, cookie-octet value), at most VTK_HTTP_COOKIES of
 * them with distinct names, and the Cookie header built from them must fit. Built by
 * tests/CMakeLists.txt (links vtkbs) as a corpus replay test (corpus:
 * tests/fuzz/corpus/kbs_cookie_fuzz/) and, with VT_FUZZ=ON, for libFuzzer.
 */
#include <stdlib.h>
#include <string.h>

#include "kbs_client/http_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_kept(const char *kv)
{
    size_t n = strlen(kv), eq = strcspn(kv, "=");
    if (n >= VTK_HTTP_COOKIE_MAX || eq == 0 || eq == n)
        abort();
    for (size_t i = 0; i < eq; i++)
        if (kv[i] <= 0x20 || kv[i] >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", kv[i]))
            abort();
    for (size_t i = eq + 1; i < n; i++)
        if (kv[i] <= 0x20 || kv[i] >= 0x7f || kv[i] == ',' || kv[i] == ';' || kv[i] == '\\' ||
            (kv[i] == '"' && i != eq + 1 && i != n - 1))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct vtk_cookie_jar jar;
    memset(&jar, 0, sizeof(jar));
    for (char *line = s, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        (void)vtk_cookie_take(&jar, line);
    }
    for (size_t i = 0; i < VTK_HTTP_COOKIES; i++) {
        if (!jar.kv[i][0])
            continue;
        check_kept(jar.kv[i]);
        size_t eq = strcspn(jar.kv[i], "=");
        for (size_t j = i + 1; j < VTK_HTTP_COOKIES; j++)
            if (!strncmp(jar.kv[i], jar.kv[j], eq + 1))
                abort(); /* one entry per name */
    }
    char h[VTK_HTTP_COOKIES * (VTK_HTTP_COOKIE_MAX + 2)];
    vtk_cookie_header(&jar, h, sizeof(h));
    if (strlen(h) >= sizeof(h))
        abort();
    free(s);
    return 0;
}
