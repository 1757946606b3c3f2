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
 * Exit: 0 ok; 1 on any failure (ocicrypt reads a non-zero status as an error).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/secmem.h"

int vt_admin_call(const char *socket_path, json_t *req, json_t **ret);

/* bytes from a base64 string or a number array */
static bool json_bytes(const json_t *v, size_t max, struct vt_buf *out)
{
    if (json_is_string(v))
        return !vt_b64_decode(json_string_value(v), json_string_length(v), false, out).err &&
               out->len <= max;
    if (!json_is_array(v) || json_array_size(v) > max)
        return false;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255 ||
            vt_buf_u8(out, (uint8_t)json_integer_value(e)).err)
            return false;
    }
    return true;
}

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

int vt_cmd_keyprovider(int argc, char **argv)
{
    if (vt_tool_wants_help(argc, argv)) {
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
    struct vt_buf in = VT_BUF_INIT, opts = VT_BUF_INIT, param = VT_BUF_INIT;
    int rc = VT_EXIT_REJECTED;
    json_t *req = NULL, *rep = NULL;
    if (vt_file_read("-", (size_t)4 << 20, &in).err) {
        vt_tool_err("keyprovider: cannot read the request on stdin");
        goto out;
    }
    req = json_loadb((const char *)in.p, in.len, 0, NULL);
    const char *op = json_string_value(json_object_get(req, "op"));
    if (!op || strcmp(op, "keywrap") != 0) {
        vt_tool_err("keyprovider: only op keywrap is served here (unwrap happens in the TEE "
                    "with veritee-agent keyprovider)");
        goto out;
    }
    const json_t *kw = json_object_get(req, "keywrapparams");
    if (!json_bytes(json_object_get(kw, "optsdata"), (size_t)1 << 20, &opts) || opts.len == 0) {
        vt_tool_err("keyprovider: keywrapparams.optsdata missing or malformed");
        goto out;
    }
    char kid[256] = "";
    if (key) {
        snprintf(kid, sizeof(kid), "%s", key);
    } else {
        const json_t *params = json_object_get(json_object_get(json_object_get(kw, "ec"),
                                                               "Parameters"), provider);
        if (!json_bytes(json_array_get(params, 0), 255, &param) || param.len == 0 ||
            memchr(param.p, 0, param.len)) {
            vt_tool_err("keyprovider: no key named: use --encryption-key provider:%s:KID",
                        provider);
            goto out;
        }
        const char *p = (const char *)param.p;
        size_t n = param.len;
        char pfx[96];
        snprintf(pfx, sizeof(pfx), "provider:%s:", provider);
        if (n > strlen(pfx) && strncmp(p, pfx, strlen(pfx)) == 0) {
            p += strlen(pfx);
            n -= strlen(pfx);
        }
        if (n > 4 && strncmp(p, "kid=", 4) == 0) {
            p += 4;
            n -= 4;
        }
        snprintf(kid, sizeof(kid), "%.*s", (int)n, p);
    }
    struct vt_buf b64 = VT_BUF_INIT;
    if (vt_b64_encode(opts.p, opts.len, false, &b64).err) {
        vt_buf_free(&b64);
        goto out;
    }
    json_t *call = json_pack("{s:s,s:s,s:s,s:s%}", "id", "1", "op", "key.wrap", "path", kid,
                             "data", (const char *)b64.p, b64.len);
    vt_buf_free(&b64);
    if (vt_admin_call(sock, call, &rep))
        goto out;
    if (!json_is_true(json_object_get(rep, "ok"))) {
        const json_t *e = json_object_get(rep, "error");
        vt_tool_err("keyprovider: the broker refused to wrap under %s: %s", kid,
                    json_string_value(json_object_get(e, "message")) ?: "no reason");
        goto out;
    }
    struct vt_buf ann = VT_BUF_INIT;
    if (!json_bytes(json_object_get(rep, "annotation"), 65536, &ann)) {
        vt_buf_free(&ann);
        vt_tool_err("keyprovider: malformed reply from the broker");
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < ann.len; i++)
        json_array_append_new(arr, json_integer(ann.p[i]));
    vt_buf_free(&ann);
    json_t *res = json_pack("{s:{s:o}}", "keywrapresults", "annotation", arr);
    char *txt = res ? json_dumps(res, JSON_COMPACT) : NULL;
    json_decref(res);
    if (txt && fputs(txt, stdout) >= 0 && fflush(stdout) == 0)
        rc = VT_EXIT_OK;
    free(txt);
out:
    json_decref(req);
    json_decref(rep);
    vt_buf_free(&in);
    vt_buf_free(&opts);
    vt_buf_free(&param);
    return rc;
}
