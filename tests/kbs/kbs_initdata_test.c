/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_initdata_test.c - unit tests of src/kbs/kbs_initdata.c: the top-level `algorithm` key
 * of init-data TOML bodies (accepted forms, the value each names, refusals with
 * VT_ERR_KBS_INIT_DATA_TOML), the PCR 8 value against a known answer (computed with
 * python3 hashlib), and the PCR 8 comparison over verified claims: accepted; refused with
 * VT_ERR_KBS_INIT_DATA_PCR8 for another digest, a missing or short PCR 8, another bank.
 */
#include <string.h>

#include "kbs/kbs_initdata.h"
#include "util/codec.h"
#include "vt_test.h"

/* A CoCo init-data body; its SHA-256 and the PCR 8 after one extend with it (hashlib). */
static const char body_ok[] = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n\n[data]\n"
                              "\"aa.toml\" = '''\n[token_configs]\n'''\n";
static const char body_sha256[] =
    "00cbc5d2d2d25da9d8b3f473476684854427767fa89b8dd6d1f3863c9f184da1";
static const char pcr8_kat[] = "e6d4b396b6e3bcb6f3ccaaa18125301c6e63569ff5bcafd3245bedac465e2d39";

static enum vtk_initdata_alg alg_of(const char *body)
{
    enum vtk_initdata_alg alg = VTK_INITDATA_ALG_OTHER;
    CHECK_OK(vtk_initdata_alg(body, strlen(body), &alg));
    return alg;
}

static void test_alg(void)
{
    CHECK(alg_of(body_ok) == VTK_INITDATA_ALG_SHA256);
    CHECK(alg_of("algorithm = \"sha384\"\n") == VTK_INITDATA_ALG_SHA384);
    CHECK(alg_of("algorithm='sha512' # a comment\r\n") == VTK_INITDATA_ALG_SHA512);
    CHECK(alg_of("  \"algorithm\"\t=\t\"sha256\"\r\nversion = \"0.1.0\"") ==
          VTK_INITDATA_ALG_SHA256);
    CHECK(alg_of("algorithm = \"md5\"\n") == VTK_INITDATA_ALG_OTHER);
    CHECK(alg_of("algorithm = \"SHA256\"\n") == VTK_INITDATA_ALG_OTHER);
    CHECK(alg_of("") == VTK_INITDATA_ALG_NONE);
    CHECK(alg_of("a = 1") == VTK_INITDATA_ALG_NONE);
    CHECK(alg_of("# algorithm = \"sha256\"\nversion = \"0.1.0\"\n") == VTK_INITDATA_ALG_NONE);
    /* keys under a table are not top-level; nor a dotted key's last part */
    CHECK(alg_of("[data]\nalgorithm = \"sha256\"\n") == VTK_INITDATA_ALG_NONE);
    CHECK(alg_of("data.algorithm = \"sha256\"\n") == VTK_INITDATA_ALG_NONE);
    CHECK(alg_of("algorithmx = \"sha256\"\n") == VTK_INITDATA_ALG_NONE);
    static const char *const bad[] = {
        "algorithm = \"sha256\"\nalgorithm = \"sha256\"\n", /* repeated */
        "algorithm = sha256\n",                             /* not a string */
        "algorithm = \"sha256\n",                           /* unterminated */
        "algorithm = \"sha\\u0032\"\n",                     /* escapes: not read */
        "algorithm = \"\"\"sha256\"\"\"\n",                 /* multi-line string */
        "algorithm = \"sha256\" x\n",                       /* trailing text */
        "algorithm.x = \"sha256\"\n",                       /* a table */
        "algorithm\n",                                      /* no value */
        "algorithm =",                                      /* value cut */
        "algorithm = \"sha\x01\"",                          /* control byte */
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(bad); i++) {
        enum vtk_initdata_alg alg = VTK_INITDATA_ALG_SHA256;
        CHECK_ERR(vtk_initdata_alg(bad[i], strlen(bad[i]), &alg), VT_ERR_KBS_INIT_DATA_TOML);
        CHECK(alg == VTK_INITDATA_ALG_NONE);
    }
    /* an embedded NUL is a byte like any other (the body's length, not strlen) */
    enum vtk_initdata_alg alg;
    CHECK_OK(vtk_initdata_alg("a = 1\n\0\nalgorithm = \"sha256\"", 28, &alg));
    CHECK(alg == VTK_INITDATA_ALG_SHA256);
    CHECK_OK(vtk_initdata_alg(NULL, 0, &alg));
    CHECK(alg == VTK_INITDATA_ALG_NONE);
}

static void test_pcr8(void)
{
    uint8_t d[32], pcr[32], kat[32];
    CHECK_OK(vti_hex_decode_fixed(body_sha256, d, 32));
    CHECK_OK(vti_hex_decode_fixed(pcr8_kat, kat, 32));
    CHECK_OK(vtk_initdata_pcr8(d, pcr));
    CHECK(memcmp(pcr, kat, 32) == 0);

    char why[160];
    json_t *c = json_pack("{s:s, s:s}", "pcr.8", pcr8_kat, "tpm.pcr_bank", "sha256");
    CHECK_OK(vtk_initdata_pcr8_check(c, d, why, sizeof(why)));
    json_object_del(c, "tpm.pcr_bank"); /* az-*-vtpm: no bank claim, always SHA-256 */
    CHECK_OK(vtk_initdata_pcr8_check(c, d, why, sizeof(why)));
    d[31] ^= 1; /* another init-data */
    CHECK_ERR(vtk_initdata_pcr8_check(c, d, why, sizeof(why)), VT_ERR_KBS_INIT_DATA_PCR8);
    CHECK(strstr(why, "not bound in PCR 8") != NULL);
    d[31] ^= 1;
    json_object_set_new(c, "pcr.8", json_string("00"));
    CHECK_ERR(vtk_initdata_pcr8_check(c, d, why, sizeof(why)), VT_ERR_KBS_INIT_DATA_PCR8);
    json_object_set_new(c, "pcr.8", json_string(body_sha256)); /* never extended as bound */
    CHECK_ERR(vtk_initdata_pcr8_check(c, d, why, sizeof(why)), VT_ERR_KBS_INIT_DATA_PCR8);
    json_object_set_new(c, "pcr.8", json_integer(8));
    CHECK_ERR(vtk_initdata_pcr8_check(c, d, why, sizeof(why)), VT_ERR_KBS_INIT_DATA_PCR8);
    json_object_del(c, "pcr.8");
    CHECK_ERR(vtk_initdata_pcr8_check(c, d, why, sizeof(why)), VT_ERR_KBS_INIT_DATA_PCR8);
    CHECK(strstr(why, "not in the quote") != NULL);
    json_object_set_new(c, "pcr.8", json_string(pcr8_kat));
    json_object_set_new(c, "tpm.pcr_bank", json_string("sha384"));
    CHECK_ERR(vtk_initdata_pcr8_check(c, d, why, sizeof(why)), VT_ERR_KBS_INIT_DATA_PCR8);
    CHECK(strstr(why, "bank") != NULL);
    json_decref(c);
}

int main(void)
{
    test_alg();
    test_pcr8();
    return vt_test_done();
}
