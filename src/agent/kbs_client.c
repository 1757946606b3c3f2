/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_client.c - the agent's KBS path: checks the URL, runs vtk_client_get_resource and turns
 * its outcome into the agent's exit status and one line on stderr.
 *
 * Trust boundary: the broker's answers are judged inside vtkbs (a resource is accepted only
 * when the JWE authenticates under the CEK wrapped to our ephemeral key); over HTTPS the
 * broker's certificate is verified against --kbs-ca (or the system store). Plain http:// gives
 * no broker authentication (the secret stays confidential: it is encrypted to our key, but
 * a man in the middle could serve its own resource), so it is allowed with a warning.
 * Secrets: the plaintext stays in the caller's wiping buffer; nothing secret is printed.
 */
#include <stdio.h>
#include <string.h>

#include "agent/kbs_client.h"
#include "kbs_client/client.h"

int vta_kbs_get_resource(const struct vta_kbs_opts *o, const char *path, struct vt_buf *out)
{
    char url[512];
    bool https = strncmp(o->url, "https://", 8) == 0;
    if (!https && strncmp(o->url, "http://", 7) != 0) {
        fprintf(stderr, "veritee-agent: --kbs wants http://HOST:PORT or https://HOST:PORT\n");
        return 2;
    }
    size_t n = strlen(o->url);
    if (n >= sizeof(url) || n <= (https ? 8u : 7u)) {
        fprintf(stderr, "veritee-agent: --kbs URL is empty or too long\n");
        return 2;
    }
    memcpy(url, o->url, n + 1);
    if (url[n - 1] == '/')
        url[n - 1] = 0;
    if (strchr(url + (https ? 8 : 7), '/')) {
        fprintf(stderr, "veritee-agent: --kbs wants the broker's base URL (no path)\n");
        return 2;
    }
    if (!https)
        fprintf(stderr, "veritee-agent: warning: %s is plain HTTP: the broker is not "
                        "authenticated (use https:// and --kbs-ca)\n", url);
    if (o->ca && !https) {
        fprintf(stderr, "veritee-agent: --kbs-ca needs an https:// URL\n");
        return 2;
    }
    struct vtk_client_opts co = {
        .url = url, .attester = o->tee, .sim_dir = o->sim_dir, .cacert = o->ca,
        .options = o->options, .n_options = o->n_options, .sim_gpus = o->sim_gpus,
    };
    int status = 0;
    char why[512];
    vt_res r = vtk_client_get_resource(&co, path, out, NULL, &status, why, sizeof(why));
    if (r.err) {
        vti_buf_free(out);
        fprintf(stderr, "veritee-agent: %s: %s: %s (%s)\n", url, path, why, vt_errname(r.err));
        return 1;
    }
    return 0;
}
