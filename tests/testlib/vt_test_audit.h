/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vt_test_audit.h - fault injection for the broker's audit (the tests of both front ends):
 * a trigger, installed from another SQLite connection, that makes every audit INSERT of the
 * store at db fail, as a failing or full disk would make the store's append fail; or its
 * removal. Header-only: only the tests that link SQLite include it.
 */
#ifndef VT_TEST_AUDIT_H
#define VT_TEST_AUDIT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "vt_test.h"

static inline void vt_test_audit_breaks(const char *db, bool on)
{
    sqlite3 *h = NULL;
    const char *sql = on ? "CREATE TRIGGER audit_breaks BEFORE INSERT ON audit BEGIN "
                           "SELECT RAISE(ABORT, 'injected'); END;"
                         : "DROP TRIGGER audit_breaks;";
    CHECK(sqlite3_open(db, &h) == SQLITE_OK && sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(h);
}

#endif
