/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redact.h - hide passwords in store locations before they reach a log line or an error
 * message (a postgresql:// URL or a libpq keyword string may carry one).
 */
#ifndef VT_BROKER_REDACT_H
#define VT_BROKER_REDACT_H

#include <stddef.h>

/* Copy `in` to out (n bytes, always NUL-terminated; a longer text is cut) with the password of
 * a URL's user information (scheme://user:PASSWORD@host, up to the last '@', so a password
 * holding '?', '/', '@' or %-escapes is hidden whole) and the value of every keyword ending in
 * `password` (`password=V` or `pass%77ord=V` in a URI query, `password = V` / `password='V'`
 * in a keyword string; names matched case-insensitively, e.g. also sslpassword) replaced by
 * "***". Checked with libpq's parser (PQconninfoParse): if a value libpq treats as secret is
 * still in the text, the options as libpq read them are listed instead (secret ones ***).
 * Over-redaction is preferred to a leak (a '@' in a URI query after host:port hides what lies
 * between). Returns out. */
const char *vtb_redact(const char *in, char *out, size_t n);

#endif
