/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wolf_thread.h - per-thread cleanup for wolfCrypt (wolfcrypt.c, wolfssl.c).
 *
 * Debian's wolfSSL is built with FP_ECC and HAVE_THREAD_LS: every thread that does an ECC
 * operation gets its own fixed-point cache (~800 KiB for P-256 + P-384), which the thread
 * must free with wc_ecc_fp_free() before it exits, or it leaks. A thread-per-connection
 * server would leak that much per connection. vti_wolf_thread_arm() (cheap, idempotent)
 * registers a thread-exit destructor that frees the calling thread's cache; every wolf entry
 * point that may touch ECC calls it.
 */
#ifndef VT_CRYPTO_WOLF_THREAD_H
#define VT_CRYPTO_WOLF_THREAD_H

void vti_wolf_thread_arm(void);

#endif
