/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_keyprovider.c - `veritee keyprovider --admin-socket PATH`: the wrap side of the
 * ocicrypt key-provider "cmd" protocol, for the image builder (skopeo/buildah with
 * OCICRYPT_KEYPROVIDER_CONFIG naming this command).
 *
 * ocicrypt sends {"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"<provider>":[..]}},
 * "optsdata":<bytes>}} on stdin (notes/kbs-protocols.md 3.3). The parameter (from
 * `--encryption-key provider:<name>:<KID>`) names the broker key <repo>/<type>/<tag>; the
 * broker wraps optsdata (the layer's private options, which hold the layer key) under that
 * key via its admin socket, so the key never leaves the broker. We answer
 * {"keywrapresults":{"annotation":[bytes]}}: the annotation is the wrapped-key JSON that
 * `veritee-agent keyprovider` later hands to the broker to unwrap after attestation.
 * Byte fields are accepted as base64 strings or number arrays; emitted as number arrays.
 * The request is parsed by src/proto (keyprovider.h): duplicate JSON keys are refused.
 * Exit: 0 ok; 1 on any failure (ocicrypt reads a non-zero status as an error).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"
#include "proto/keyprovider.h"
#include "proto/wrapped.h"
#include "tool.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/secmem.h"

int admin_call(const char *socket_path, json_t *req, json_t **ret);

static void usage(FILE *f)
{
    fprintf(f,
        "usage: veritee keyprovider --admin-socket PATH [--provider NAME] [--key KID]\n\n"
        "ocicrypt key-provider (cmd protocol, JSON on stdin/stdout), wrap side: wraps image\n"
        "layer keys under the broker key KID (<repo>/<type>/<tag>), taken from the\n"
        "--encryption-key provider:NAME:KID parameter or --key. Decryption happens inside\n"
        "the TEE with 'veritee-agent keyprovider' after attestation. Example ocicrypt config:\n"
        "  {\"key-providers\":{\"veritee\":{\"cmd\":{\"path\":\"/usr/bin/veritee\",\n"
        "   \"args\":[\"keyprovider\",\"--admin-socket\",\"/run/veritee-broker/admin.sock\"]}}}}\n");
}

/* Read and parse the keywrap request; the broker key's name into kid. */
static int read_request(const char *provider, const char *key, struct vtp_kp_request *q,
                        char *kid, size_t kid_len)
{
    memset(q, 0, sizeof(*q));
    struct vt_buf in = VT_BUF_INIT;
    if (vti_file_read("-", VTP_KP_MAX_REQUEST, &in).err) {
        vti_buf_free(&in);
        tool_err("keyprovider: cannot read the request on stdin");
        return VT_EXIT_REJECTED;
    }
    char why[200];
    vt_res r = vtp_kp_parse(in.p, in.len, VTP_KP_KEYWRAP, provider, q, why, sizeof(why));
    vti_buf_free(&in);
    if (r.err == VT_ERR_BROKER_UNKNOWN_OP) {
        tool_err("keyprovider: only op keywrap is served here (unwrap happens in the TEE "
                    "with veritee-agent keyprovider)");
        return VT_EXIT_REJECTED;
    }
    if (r.err) {
        tool_err("keyprovider: %s", why);
        return VT_EXIT_REJECTED;
    }
    if (key) {
        snprintf(kid, kid_len, "%s", key);
    } else if (q->param.len == 0) {
        tool_err("keyprovider: no key named: use --encryption-key provider:%s:KID", provider);
        return VT_EXIT_REJECTED;
    } else {
        vtp_kp_param_kid(&q->param, provider, kid, kid_len);
    }
    return VT_EXIT_OK;
}

/* Ask the broker to wrap optsdata under kid; the annotation bytes into ann. */
static int broker_wrap(const char *sock, const char *kid, const struct vt_buf *opts,
                       struct vt_buf *ann)
{
    json_t *call = json_pack("{s:s,s:s,s:s,s:o}", "id", "1", "op", "key.wrap", "path", kid,
                             "data", vtp_json_b64(opts->p, opts->len));
    json_t *rep = NULL;
    if (!call || admin_call(sock, call, &rep))
        return VT_EXIT_REJECTED;
    int rc = VT_EXIT_REJECTED;
    if (!json_is_true(json_object_get(rep, "ok"))) {
        const json_t *e = json_object_get(rep, "error");
        tool_err("keyprovider: the broker refused to wrap under %s: %s", kid,
                    json_string_value(json_object_get(e, "message")) ?: "no reason");
    } else if (vtp_json_bytes(json_object_get(rep, "annotation"), VTP_MAX_ANNOTATION, ann).err) {
        tool_err("keyprovider: malformed reply from the broker");
    } else {
        rc = VT_EXIT_OK;
    }
    json_decref(rep);
    return rc;
}

int cmd_keyprovider(int argc, char **argv)
{
    if (tool_wants_help(argc, argv)) {
        usage(stdout);
        return VT_EXIT_OK;
    }
    const char *sock = NULL, *provider = "veritee", *key = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--admin-socket"))
            sock = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--provider"))
            provider = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--key"))
            key = argv[++i];
        else {
            usage(stderr);
            return VT_EXIT_USAGE;
        }
    }
    if (!sock) {
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    struct vtp_kp_request q;
    struct vt_buf ann = VT_BUF_INIT;
    char kid[256] = "";
    int rc = read_request(provider, key, &q, kid, sizeof(kid));
    if (!rc)
        rc = broker_wrap(sock, kid, &q.optsdata, &ann);
    if (!rc) {
        char *txt = vtp_kp_reply_wrap(ann.p, ann.len);
        rc = txt && fputs(txt, stdout) >= 0 && fflush(stdout) == 0 ? VT_EXIT_OK
                                                                  : VT_EXIT_REJECTED;
        free(txt);
    }
    vti_buf_free(&ann);
    vtp_kp_free(&q);
    return rc;
}
