/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_gpu_policy_test.c - policy rules on device evidence ("gpus"): validation, at least
 * "count" devices, every device verified, every device's claims; rules without "gpus" ignore
 * devices, and a rule with "gpus" refuses evidence that has none.
 */
#include <string.h>

#include "policy/policy.h"
#include "vt_test.h"

static const char *const doc =
    "{\"version\":1,\"rules\":["
    "{\"name\":\"model\",\"resources\":[\"ai/model/*\"],\"tee\":[\"tdx\"],"
    " \"gpus\":{\"count\":2,\"claims\":{\"rim\":\"match\",\"arch\":\"HOPPER\"}}},"
    "{\"name\":\"any-gpu\",\"resources\":[\"ai/any/*\"],\"gpus\":{}},"
    "{\"name\":\"cpu\",\"resources\":[\"cpu/key/*\"]}]}";

static void check_validation(void)
{
    char why[200];
    CHECK_OK(vtb_policy_check(doc, why, sizeof(why)));
    static const char *const bad[] = {
        "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"gpus\":1}]}",
        "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"gpus\":{\"count\":0}}]}",
        "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"gpus\":{\"count\":9}}]}",
        "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"gpus\":{\"uuid\":\"x\"}}]}",
        "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"gpus\":{\"claims\":[1]}}]}",
        ("{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],"
         "\"gpus\":{\"claims\":{\"rim\":{}}}}]}"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_ERR(vtb_policy_check(bad[i], why, sizeof(why)), VT_ERR_BROKER_BAD_POLICY);
}

int main(void)
{
    check_validation();
    struct vtb_snapshot *s = NULL;
    CHECK_OK(vtb_snapshot_new(doc, NULL, 0, &s));
    if (!s)
        return vt_test_done();
    struct vtb_claim_str cpu[] = { { "debug", "false" } };
    struct vtb_claim_str good[] = { { "arch", "HOPPER" }, { "rim", "match" } };
    struct vtb_claim_str norim[] = { { "arch", "HOPPER" }, { "rim", "not-appraised" } };
    struct vtb_claim_str noarch[] = { { "rim", "match" } };
    struct vtb_device dev[2] = { { .verified = true, .claims = good, .n_claims = 2 },
                                 { .verified = true, .claims = good, .n_claims = 2 } };
    struct vtb_input in = { .tee = "tdx", .claims = cpu, .n_claims = 1, .devices = dev,
                            .n_devices = 2 };
    char rule[64], why[256];
    CHECK_OK(vtb_appraise(s, &in, "ai/model/llm", 10, rule, why, sizeof(why)));
    CHECK(strcmp(rule, "model") == 0);
    /* a GPU missing (count 2) */
    in.n_devices = 1;
    CHECK_ERR(vtb_appraise(s, &in, "ai/model/llm", 10, rule, why, sizeof(why)),
              VT_ERR_BROKER_GPU_MISSING);
    CHECK(strstr(why, "requires 2 verified GPU(s), the evidence has 1") != NULL);
    CHECK_OK(vtb_appraise(s, &in, "ai/any/x", 10, rule, why, sizeof(why)));
    /* no device evidence at all: a rule naming GPUs refuses, a CPU rule still grants */
    in.n_devices = 0;
    CHECK_ERR(vtb_appraise(s, &in, "ai/any/x", 10, rule, why, sizeof(why)),
              VT_ERR_BROKER_GPU_MISSING);
    CHECK_OK(vtb_appraise(s, &in, "cpu/key/1", 10, rule, why, sizeof(why)));
    /* one device failed verification */
    in.n_devices = 2;
    dev[1].verified = false;
    dev[1].reason = "SPDM signature invalid";
    CHECK_ERR(vtb_appraise(s, &in, "ai/model/llm", 10, rule, why, sizeof(why)),
              VT_ERR_BROKER_GPU_FAILED);
    CHECK(strstr(why, "GPU 1 failed verification: SPDM signature invalid") != NULL);
    CHECK_ERR(vtb_appraise(s, &in, "ai/any/x", 10, rule, why, sizeof(why)),
              VT_ERR_BROKER_GPU_FAILED);
    CHECK_OK(vtb_appraise(s, &in, "cpu/key/1", 10, rule, why, sizeof(why)));
    /* every device must meet the claims */
    dev[1].verified = true;
    dev[1].claims = norim;
    CHECK_ERR(vtb_appraise(s, &in, "ai/model/llm", 10, rule, why, sizeof(why)),
              VT_ERR_BROKER_CLAIM_MISMATCH);
    CHECK(strstr(why, "GPU 1 claim rim does not match") != NULL);
    dev[1].claims = noarch;
    dev[1].n_claims = 1;
    CHECK_ERR(vtb_appraise(s, &in, "ai/model/llm", 10, rule, why, sizeof(why)),
              VT_ERR_BROKER_CLAIM_MISSING);
    /* matching is case-insensitive for strings, as for the rule's own claims */
    struct vtb_claim_str lower[] = { { "arch", "hopper" }, { "rim", "MATCH" } };
    dev[1].claims = lower;
    dev[1].n_claims = 2;
    CHECK_OK(vtb_appraise(s, &in, "ai/model/llm", 10, rule, why, sizeof(why)));
    /* the CPU conditions still apply */
    in.tee = "snp";
    CHECK_ERR(vtb_appraise(s, &in, "ai/model/llm", 10, rule, why, sizeof(why)),
              VT_ERR_BROKER_TEE_NOT_ALLOWED);
    vtb_snapshot_unref(s);
    return vt_test_done();
}
