/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_bench_bound.h - the KBS protocol's crypto bound for kbs_bench (kbs_bench_bound.c):
 * one call = the signatures, key agreements and ciphers of one full protocol run or of one
 * token fetch, on keys shared by every thread.
 */
#ifndef VT_KBS_BENCH_BOUND_H
#define VT_KBS_BENCH_BOUND_H

void *kbs_bound_new(void);
void kbs_bound_free(void *keys);
void kbs_bound_full_run(void *keys);
void kbs_bound_token_fetch(void *keys);

#endif
