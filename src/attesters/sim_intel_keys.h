/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_intel_keys.h - the sim-sgx / sim-tdx attester's signing material (PCK key, attestation
 * key, PCK chain as PEM) loaded from a sim directory, memoized by the exact bytes of the files
 * it comes from. Every collect still reads the five files (PCK certificate and key, PCK CA,
 * root, AK); only their PEM decoding is skipped when the bytes equal a cached entry's byte for
 * byte. A changed file misses and is decoded from the bytes just read; only successful loads
 * are kept.
 */
#ifndef VT_ATTESTERS_SIM_INTEL_KEYS_H
#define VT_ATTESTERS_SIM_INTEL_KEYS_H

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/result.h"

struct vti_sim_intel_keys {
    EVP_PKEY *pck_key; /* signs the QE report */
    EVP_PKEY *ak;      /* signs the quote */
    struct vt_buf chain; /* PCK, PCK CA, root as PEM, NUL-terminated (the type 5 cert data) */
};

/* Load dir/intel/{pname.pem, pname.key, pck-ca.pem, root.pem, ak.key}; a missing or
 * unparsable file is VT_ERR_SIM_DIR_INVALID. Free *out with vti_sim_intel_keys_free. */
vt_res vti_sim_intel_keys_load(const char *dir, const char *pname, struct vti_sim_intel_keys *out);
void vti_sim_intel_keys_free(struct vti_sim_intel_keys *k);
/* Tests: drop every cached entry; *hits / *misses count lookups since the process started. */
void vti_sim_intel_keys_flush(void);
void vti_sim_intel_keys_stats(unsigned long *hits, unsigned long *misses);

#endif
