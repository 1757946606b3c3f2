/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slow_gai.c - LD_PRELOAD shim for tests/e2e/tunnel_features_test.sh: getaddrinfo for a name
 * under ".slow.test" sleeps 5 s and then fails (EAI_NONAME), as a lookup from a slow or dead
 * DNS server would; every other name goes to the real getaddrinfo. Lets the test show that a
 * slow lookup does not stall the tunnel's other connections.
 */
#include <dlfcn.h>
#include <netdb.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

__attribute__((visibility("default"))) int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    size_t n = node ? strlen(node) : 0;
    bool numeric = hints && (hints->ai_flags & AI_NUMERICHOST); /* never asks DNS */
    if (n > 10 && !strcmp(node + n - 10, ".slow.test") && !numeric) {
        sleep(5);
        return EAI_NONAME;
    }
    void *sym = dlsym(RTLD_NEXT, "getaddrinfo");
    gai_fn real = NULL;
    memcpy(&real, &sym, sizeof(real));
    return real ? real(node, service, hints, res) : EAI_SYSTEM;
}
