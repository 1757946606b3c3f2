/*
 * redact.h - hide passwords in store locations before they reach a log line or an error
 * message (a postgresql:// URL or a libpq keyword string may carry one).
 */
#ifndef VT_BROKER_REDACT_H
#define VT_BROKER_REDACT_H

#include <stddef.h>

/* Copy `in` to out (n bytes, always NUL-terminated; a longer text is cut) with the password of
 * a URL's user information (scheme://user:PASSWORD@host) and the value of every `password`
 * keyword (`password=V` in a query or `password = V` / `password='V'` in a keyword string,
 * names matched case-insensitively, e.g. also sslpassword) replaced by "***". Returns out. */
const char *vtb_redact(const char *in, char *out, size_t n);

#endif
