/* SPDX-License-Identifier: Apache-2.0 */
/*
 * brokerd_limits_test.c - the agent port's limits in the daemon config (src/brokerd/config.c):
 * max-connections-per-address, max-connections and timeout, from a file and by name; bounds
 * refused with VT_ERR_BROKER_CONFIG. (Their effect on slow peers: tests/e2e/broker_slowloris_test.sh.)
 */
#include <stdio.h>
#include <string.h>

#include "brokerd/daemon.h"
#include "util/buf.h"
#include "vt_test.h"

static void test_set(void)
{
    struct vtb_config c;
    memset(&c, 0, sizeof(c));
    CHECK_OK(vtb_config_set(&c, "max-connections-per-address", "1"));
    CHECK(c.max_per_addr == 1);
    CHECK_OK(vtb_config_set(&c, "max-connections-per-address", "4096"));
    CHECK(c.max_per_addr == 4096);
    /* out of range or not a number: refused, the value kept */
    CHECK_ERR(vtb_config_set(&c, "max-connections-per-address", "0"), VT_ERR_BROKER_CONFIG);
    CHECK_ERR(vtb_config_set(&c, "max-connections-per-address", "4097"), VT_ERR_BROKER_CONFIG);
    CHECK_ERR(vtb_config_set(&c, "max-connections-per-address", "-1"), VT_ERR_BROKER_CONFIG);
    CHECK_ERR(vtb_config_set(&c, "max-connections-per-address", "8x"), VT_ERR_BROKER_CONFIG);
    CHECK_ERR(vtb_config_set(&c, "max-connections-per-address", ""), VT_ERR_BROKER_CONFIG);
    CHECK(c.max_per_addr == 4096);
    CHECK_OK(vtb_config_set(&c, "timeout", "1"));
    CHECK(c.timeout == 1);
    CHECK_ERR(vtb_config_set(&c, "timeout", "0"), VT_ERR_BROKER_CONFIG);
    CHECK_ERR(vtb_config_set(&c, "timeout", "3601"), VT_ERR_BROKER_CONFIG);
    CHECK_ERR(vtb_config_set(&c, "max-connections-per-addr", "8"), VT_ERR_BROKER_CONFIG);
    vtb_config_free(&c);
}

static void test_file(void)
{
    char f[1024], why[512];
    struct vtb_config c;
    memset(&c, 0, sizeof(c));
    snprintf(f, sizeof(f), "%s/limits.conf", vt_test_tmpdir());
    const char *ok = "max-connections = 100\nmax-connections-per-address = 3\ntimeout = 7\n";
    CHECK_OK(vti_file_write(f, ok, strlen(ok), 0600));
    CHECK_OK(vtb_config_load(f, &c, why, sizeof(why)));
    CHECK(c.max_conns == 100 && c.max_per_addr == 3 && c.timeout == 7);
    const char *bad = "max-connections-per-address = 0\n";
    CHECK_OK(vti_file_write(f, bad, strlen(bad), 0600));
    CHECK_ERR(vtb_config_load(f, &c, why, sizeof(why)), VT_ERR_BROKER_CONFIG);
    CHECK(strstr(why, ":1: unknown setting or bad value for 'max-connections-per-address'"));
    vtb_config_free(&c);
}

int main(void)
{
    test_set();
    test_file();
    return vt_test_done();
}
