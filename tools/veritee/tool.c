/*
 * tool.c - argument helpers shared by the `veritee` commands (see tool.h): the options several
 * commands take (--option NAME=VALUE, --root-ca F, --report-data HEX, --nonce HEX, --at TIME,
 * --key-type, --sim-dir) and reading an input file. Each helper prints "veritee: CMD: ..." on
 * bad input and returns false, so a command only decides its exit status (VT_EXIT_USAGE).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "util/codec.h"

bool vt_tool_parse_option(char *arg, struct vt_option *o)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    *eq = 0;
    o->name = arg;
    o->value = eq + 1;
    return true;
}

bool vt_tool_add_option(const char *cmd, char *arg, struct vt_option *opts, size_t *n, size_t max)
{
    if (*n >= max || !vt_tool_parse_option(arg, &opts[*n])) {
        vt_tool_err("%s: bad --option (want NAME=VALUE, at most %zu)", cmd, max);
        return false;
    }
    (*n)++;
    return true;
}

bool vt_tool_add_root(const char *cmd, const char *path, const char **roots, size_t *n, size_t max)
{
    if (*n >= max) {
        vt_tool_err("%s: too many --root-ca (at most %zu)", cmd, max);
        return false;
    }
    if (access(path, R_OK) != 0) {
        vt_tool_err("%s: cannot read --root-ca %s: %s", cmd, path, strerror(errno));
        return false;
    }
    roots[(*n)++] = path;
    return true;
}

bool vt_tool_report_data(const char *cmd, const char *hex, uint8_t rd[64])
{
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = vt_hex_decode(hex, strlen(hex), &b);
    bool ok = !r.err && b.len <= 64;
    if (ok) {
        memset(rd, 0, 64);
        if (b.len)
            memcpy(rd, b.p, b.len);
    } else {
        vt_tool_err("%s: --report-data must be hex of at most 64 bytes", cmd);
    }
    vt_buf_free(&b);
    return ok;
}

bool vt_tool_nonce(const char *cmd, const char *hex, struct vt_buf *out)
{
    vt_buf_free(out);
    if (vt_hex_decode(hex, strlen(hex), out).err || out->len == 0) {
        vt_tool_err("%s: bad --nonce (want hex)", cmd);
        return false;
    }
    return true;
}

bool vt_tool_time(const char *cmd, const char *arg, int64_t *out)
{
    if (vt_time_parse(arg, out).err || *out <= 0) {
        vt_tool_err("%s: bad --at '%s' (want RFC 3339 or Unix seconds)", cmd, arg);
        return false;
    }
    return true;
}

bool vt_tool_key_type(const char *cmd, const char *arg, enum vt_key_type *out)
{
    if (!strcmp(arg, "p256"))
        *out = VT_KEY_P256;
    else if (!strcmp(arg, "p384"))
        *out = VT_KEY_P384;
    else if (!strcmp(arg, "rsa3072"))
        *out = VT_KEY_RSA3072;
    else {
        vt_tool_err("%s: --key-type must be p256, p384 or rsa3072", cmd);
        return false;
    }
    return true;
}

const char *vt_tool_sim_dir(const char *arg)
{
    return arg ? arg : getenv("VERITEE_SIM_DIR");
}

bool vt_tool_read_input(const char *cmd, const char *path, size_t max, struct vt_buf *out)
{
    vt_res r = vt_file_read(path, max, out);
    if (r.err) {
        vt_tool_err("%s: cannot read %s: %s", cmd, path, vt_strerror(r.err));
        return false;
    }
    return true;
}
