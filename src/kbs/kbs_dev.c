/*
 * kbs_dev.c - veritee-kbs-dev: a small driver for the KBS module, used by the tests and the
 * benchmark independently of the broker daemon's own start-up code.
 *   serve --store S --master-key F --listen H:P [--port-file F] [--allow-sim] [--root-ca F]
 *         [--token-lifetime S] [--session-lifetime S] [--cert F --key F] [--threads N]
 *   put-resource --store S --master-key F PATH FILE
 *   set-policy --store S --master-key F FILE
 *   get --kbs URL --tee NAME [--sim-dir D] [--cacert F] [--rsa] [--fetch-from URL]
 *       [--token-out F] PATH -o FILE
 * Store: a SQLite file, or postgresql://... (store_pg.c). Exit: 0 ok, 1 refused, 2 usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kbs/client.h"
#include "kbs/kbs.h"
#include "util/secmem.h"

static const struct vtb_store_ops *store_ops(const char *where)
{
    if (!strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11))
        return &vtb_store_pg;
    return &vtb_store_sqlite;
}

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: veritee-kbs-dev serve|put-resource|set-policy|get ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    struct vtk_config cfg = { 0 };
    struct vtk_client_opts co = { 0 };
    const char *store = NULL, *mk = NULL, *port_file = NULL, *outf = NULL, *tokf = NULL;
    static const struct option lo[] = {
        { "store", 1, 0, 's' }, { "master-key", 1, 0, 'm' }, { "listen", 1, 0, 'l' },
        { "port-file", 1, 0, 'P' }, { "allow-sim", 0, 0, 'A' }, { "root-ca", 1, 0, 'r' },
        { "token-lifetime", 1, 0, 'T' }, { "session-lifetime", 1, 0, 'S' },
        { "cert", 1, 0, 'c' }, { "key", 1, 0, 'k' }, { "threads", 1, 0, 'n' },
        { "kbs", 1, 0, 'u' }, { "tee", 1, 0, 't' }, { "sim-dir", 1, 0, 'd' },
        { "cacert", 1, 0, 'C' }, { "rsa", 0, 0, 'R' }, { "fetch-from", 1, 0, 'F' },
        { "token-out", 1, 0, 'O' }, { "out", 1, 0, 'o' }, { 0, 0, 0, 0 },
    };
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
        switch (c) {
        case 's': store = optarg; break;
        case 'm': mk = optarg; break;
        case 'l': cfg.listen = optarg; break;
        case 'P': port_file = optarg; break;
        case 'A': cfg.allow_sim = true; break;
        case 'r':
            if (cfg.n_root_ca < VTK_MAX_ROOTS)
                cfg.root_ca[cfg.n_root_ca++] = optarg;
            break;
        case 'T': cfg.token_lifetime = strtol(optarg, NULL, 10); break;
        case 'S': cfg.session_lifetime = strtol(optarg, NULL, 10); break;
        case 'c': cfg.cert = optarg; break;
        case 'k': cfg.key = optarg; break;
        case 'n': cfg.threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'u': co.url = optarg; break;
        case 't': co.attester = optarg; break;
        case 'd': co.sim_dir = optarg; break;
        case 'C': co.cacert = optarg; break;
        case 'R': co.rsa = true; break;
        case 'F': co.fetch_url = optarg; break;
        case 'O': tokf = optarg; break;
        case 'o': outf = optarg; break;
        default: return 2;
        }
    }
    if (!strcmp(cmd, "get")) {
        if (!co.url || !co.attester || optind + 1 != argc || !outf)
            return 2;
        struct vt_buf out = VT_BUF_INIT, tok = VT_BUF_INIT;
        int status = 0;
        char why[512];
        vt_res r = vtk_client_get_resource(&co, argv[optind], &out, &tok, &status, why,
                                           sizeof(why));
        if (tokf && tok.len)
            { vt_res wr = vt_file_write(tokf, tok.p, tok.len, 0600); (void)wr.err; }
        if (r.err) {
            fprintf(stderr, "veritee-kbs-dev: get: %s (%s)\n", why, vt_errname(r.err));
            vt_buf_free(&out);
            vt_buf_free(&tok);
            return 1;
        }
        r = vt_file_write(outf, out.p ? out.p : (const uint8_t *)"", out.len, 0600);
        vt_buf_free(&out);
        vt_buf_free(&tok);
        return r.err ? 1 : 0;
    }
    if (!store || !mk) {
        fprintf(stderr, "veritee-kbs-dev: --store and --master-key are required\n");
        return 2;
    }
    uint8_t key[VTB_MASTER_KEY_LEN];
    if (access(mk, F_OK) != 0 && vtb_master_key_generate(mk).err)
        return 2;
    struct vtb_kms *kms = NULL;
    vt_res r = vtb_master_key_load(mk, key);
    if (!r.err)
        r = vtb_kms_open(store_ops(store), store, key, &kms);
    vt_memzero(key, sizeof(key));
    if (r.err) {
        fprintf(stderr, "veritee-kbs-dev: store: %s\n", vt_strerror(r.err));
        return 2;
    }
    int rc = 0;
    int64_t now = (int64_t)time(NULL);
    if (!strcmp(cmd, "put-resource") || !strcmp(cmd, "set-policy")) {
        bool put = cmd[0] == 'p';
        if (optind + (put ? 2 : 1) != argc) {
            vtb_kms_close(kms);
            return 2;
        }
        struct vt_buf b = VT_BUF_INIT;
        r = vt_file_read(argv[optind + (put ? 1 : 0)], VTB_MAX_SECRET, &b);
        if (!r.err && put)
            r = vtb_kms_put_resource(kms, argv[optind], b.p, b.len, now);
        else if (!r.err) {
            char why[256];
            r = vt_buf_cstr(&b);
            if (!r.err)
                r = vtb_policy_check((const char *)b.p, why, sizeof(why));
            if (!r.err)
                r = vtb_kms_ops(kms)->policy_set(vtb_kms_store(kms), (const char *)b.p, now);
        }
        vt_buf_free(&b);
        if (r.err) {
            fprintf(stderr, "veritee-kbs-dev: %s: %s\n", cmd, vt_strerror(r.err));
            rc = 1;
        }
    } else if (!strcmp(cmd, "serve")) {
        struct vtk_env env = { .kms = kms };
        struct vtk_server *k = NULL;
        r = vtk_new(&cfg, &env, now, &k);
        if (!r.err)
            r = vtk_http_start(k);
        if (r.err) {
            fprintf(stderr, "veritee-kbs-dev: serve: %s\n", vt_strerror(r.err));
            vtk_free(k);
            vtb_kms_close(kms);
            return 1;
        }
        if (port_file) {
            char pb[16];
            int n = snprintf(pb, sizeof(pb), "%d\n", k->port);
            { vt_res wr = vt_file_write(port_file, pb, (size_t)n, 0644); (void)wr.err; }
        }
        fprintf(stderr, "veritee-kbs-dev: KBS listening on port %d\n", k->port);
        signal(SIGTERM, on_sig);
        signal(SIGINT, on_sig);
        signal(SIGPIPE, SIG_IGN);
        while (!stop)
            pause();
        vtk_free(k);
    } else {
        rc = 2;
    }
    vtb_kms_close(kms);
    return rc;
}
