/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vt_frame.c - writes broker protocol frames for the end-to-end tests (never installed):
 *
 *   vt_frame BODY...    each BODY as one frame (src/proto/frame.h: 4-byte big-endian length,
 *                       then the bytes) on stdout, in order.
 * The e2e scripts pipe the result into `veritee tls-client` to speak raw protocol to a
 * broker. Exit 0 ok, 2 error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto/frame.h"
#include "vt_test.h"

static int out_write(void *arg, const void *p, size_t n)
{
    (void)arg;
    return fwrite(p, 1, n, stdout) == n ? 0 : VT_ERR_IO;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: vt_frame BODY...\n");
        return 2;
    }
    struct vtp_io io = { .write = out_write };
    for (int i = 1; i < argc; i++)
        if (vtp_frame_write(&io, argv[i], strlen(argv[i]), VTP_MAX_ADMIN_REQUEST).err)
            return 2;
    return fflush(stdout) == 0 ? 0 : 2;
}
