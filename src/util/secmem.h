/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secmem.h - secret hygiene: zeroize, constant-time compare, wiping allocation.
 */
#ifndef VT_UTIL_SECMEM_H
#define VT_UTIL_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

/* Zero memory in a way the compiler cannot remove. */
void vti_memzero(void *p, size_t n);
/* Constant-time equality of two n-byte regions (n is public). */
bool vti_ct_eq(const void *a, const void *b, size_t n);
/* Allocate / free secret memory: excluded from core dumps where possible, wiped on free. */
void *vti_secret_alloc(size_t n);
void vti_secret_free(void *p, size_t n);

#endif
