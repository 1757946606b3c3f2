/* SPDX-License-Identifier: Apache-2.0 */
/*
 * path.h - resource paths of the broker's protocols: exactly three segments
 * <repo>/<type>/<tag>, each 1..64 characters of [A-Za-z0-9._-], not "." or "..".
 * A "kbs:///" prefix or one leading '/' is accepted and removed by vtp_path_normalize.
 */
#ifndef VT_PROTO_PATH_H
#define VT_PROTO_PATH_H

#include <stdbool.h>

#include "util/result.h"

#define VTP_MAX_PATH 200
#define VTP_MAX_SEGMENT 64

/* VT_ERR_BROKER_BAD_PATH for anything but a well-formed path (NULL included). */
VT_RESULT vtp_path_check(const char *path);
/* Check and copy without the prefix (out: VTP_MAX_PATH + 1 bytes). */
VT_RESULT vtp_path_normalize(const char *in, char *out);
/* Glob over paths: '*' matches one whole segment or the rest of a segment ("key-*"). */
bool vtp_path_match(const char *pattern, const char *path);

#endif
