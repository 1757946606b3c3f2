/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_bench.c - KBS throughput: full protocol runs per second (auth -> attest -> resource,
 * client-side evidence and JWE decryption included) and resource fetches per second with a
 * token (Bearer), against a running broker, with T client threads for S seconds each.
 *   kbs_bench URL ATTESTER SIM_DIR PATH [THREADS] [SECONDS] [LABEL] [ROUNDS]
 * Each measurement runs ROUNDS (default 3) times beside its crypto bound (kbs_bench_bound.c,
 * same threads, same duration, interleaved) and prints the medians and
 * `ratio kbs_full_run[_LABEL]: X` / `ratio kbs_token_fetch[_LABEL]: Y` (rate / bound; no
 * suffix for sqlite). bench: see docs/kbs.md for the full command.
 * KBS_BENCH_FLOOR=1 adds the HTTP floor of each figure (the same exchanges, answered by an
 * empty 404) and `ratio kbs_full_run_ceiling` / `ratio kbs_token_fetch_ceiling`: the best
 * ratio attainable over this HTTP stack on this machine (measure_floor below).
 * KBS_BENCH_ONLY=full, fetch or floor runs one figure alone (for perf record).
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kbs_client/client.h"
#include "kbs_client/http_client.h"
#include "kbs_bench_bound.h"

static const char *url, *att, *simdir, *path;
static char bearer[8192];
static atomic_long done, errs;
static volatile int running;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *full(void *arg)
{
    struct vtk_client_opts o = { .url = url, .attester = att, .sim_dir = simdir };
    while (running) {
        struct vt_buf out = VT_BUF_INIT;
        int st;
        char why[256];
        vt_res r = vtk_client_get_resource(&o, path, &out, NULL, &st, why, sizeof(why));
        vti_buf_free(&out);
        atomic_fetch_add(r.err ? &errs : &done, 1);
    }
    return NULL;
}

static size_t sink(char *p, size_t s, size_t n, void *a) { (void)p; (void)a; return s * n; }

/* GET url + target with the Bearer token on one kept-alive connection until the run stops;
 * an answer with status want counts as done, anything else as an error. */
static void get_loop(const char *target, long want)
{
    CURL *c = curl_easy_init();
    char u[1024];
    snprintf(u, sizeof(u), "%s%s", url, target);
    struct curl_slist *h = curl_slist_append(NULL, bearer);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    while (running) {
        long code = 0;
        CURLcode rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        atomic_fetch_add(rc == CURLE_OK && code == want ? &done : &errs, 1);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void *fetch(void *arg)
{
    (void)arg;
    char t[1024];
    snprintf(t, sizeof(t), "/kbs/v0/resource/%s", path);
    get_loop(t, 200);
    return NULL;
}

/* The protocol floor (KBS_BENCH_FLOOR): the same HTTP exchanges with nothing behind them.
 * A full run's floor is what vtk_client_get_resource does on the wire (a new client, three
 * requests: two POSTs of a small JSON body and a GET) to paths the broker answers at once with 404
 * PluginNotFound: no JSON, no crypto, no store. A fetch's floor is the fetch loop's libcurl
 * request on its kept-alive connection, to the same 404 path. */
static void *floor_full(void *arg)
{
    (void)arg;
    while (running) {
        struct vtk_http *c = NULL;
        struct vt_buf rep = VT_BUF_INIT;
        int s1 = 0, s2 = 0, s3 = 0;
        bool ok = !vtk_http_open(url, NULL, &c).err &&
                  !vtk_http_request(c, "/kbs/v0/floor-auth", "{}", NULL, 65536, &s1, &rep).err &&
                  !vtk_http_request(c, "/kbs/v0/floor-attest", "{}", NULL, 65536, &s2, &rep).err &&
                  !vtk_http_request(c, "/kbs/v0/floor-resource", NULL, NULL, 65536, &s3, &rep).err;
        vtk_http_close(c);
        vti_buf_free(&rep);
        atomic_fetch_add(ok && s1 == 404 && s2 == 404 && s3 == 404 ? &done : &errs, 1);
    }
    return NULL;
}

static void *floor_fetch(void *arg)
{
    (void)arg;
    get_loop("/kbs/v0/floor-resource", 404);
    return NULL;
}

static void *bound_keys;
static void (*bound_fn)(void *);

static void *bound(void *arg)
{
    (void)arg;
    while (running) {
        bound_fn(bound_keys);
        atomic_fetch_add(&done, 1);
    }
    return NULL;
}

/* T threads of fn for secs seconds: the rate of successes (errors counted into *nerr). */
static double run(void *(*fn)(void *), int threads, double secs, long *nerr)
{
    pthread_t t[256];
    atomic_store(&done, 0);
    atomic_store(&errs, 0);
    running = 1;
    double t0 = now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, fn, NULL);
    struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };
    nanosleep(&ts, NULL);
    running = 0;
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double el = now_s() - t0;
    *nerr += atomic_load(&errs);
    return (double)atomic_load(&done) / el;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One figure: reps rounds of (bound, measured) side by side, each round's line printed, then
 * the median rate; rate[] and brate[] get the rounds' rates. */
static void rounds(const char *what, void *(*fn)(void *), void (*bfn)(void *), int threads,
                   double secs, int reps, double *rate, double *brate)
{
    long nerr = 0, berr = 0;
    for (int i = 0; i < reps; i++) {
        bound_fn = bfn;
        brate[i] = run(bound, threads, secs, &berr);
        rate[i] = run(fn, threads, secs, &nerr);
        printf("  round %d: %-34s %8.1f /s, crypto bound %8.1f /s\n", i + 1, what, rate[i],
               brate[i]);
    }
    double r[16];
    memcpy(r, rate, (size_t)reps * sizeof(*r));
    printf("%-44s %8.1f /s  (median of %d x %.1f s, %d threads, %ld errors)\n", what,
           median(r, reps), reps, secs, threads, nerr);
}

/* A measured figure: its rounds, the bound's median and `ratio NAME` (rate / bound). */
static void measure(const char *what, const char *ratio, void *(*fn)(void *),
                    void (*bfn)(void *), int threads, double secs, int reps)
{
    double rate[16], brate[16], q[16];
    rounds(what, fn, bfn, threads, secs, reps, rate, brate);
    for (int i = 0; i < reps; i++)
        q[i] = rate[i] / brate[i];
    printf("%-44s %8.1f /s\n", "  its crypto bound", median(brate, reps));
    printf("ratio %s: %.3f\n", ratio, median(q, reps));
    fflush(stdout);
}

/* A floor (fn: the HTTP exchanges alone). Floor and bound saturate the same two cores, so a
 * protocol that did nothing but its crypto and these empty exchanges would run at most at
 * 1 / (1/bound + 1/floor) per second: the ceiling ratio printed is that rate over the bound,
 * floor / (bound + floor), the best `ratio NAME` any server behind this HTTP stack can reach
 * on this machine (no JSON, no store, no policy counted). */
static void measure_floor(const char *what, const char *ratio, void *(*fn)(void *),
                          void (*bfn)(void *), int threads, double secs, int reps)
{
    double rate[16], brate[16], q[16];
    rounds(what, fn, bfn, threads, secs, reps, rate, brate);
    for (int i = 0; i < reps; i++)
        q[i] = rate[i] / (brate[i] + rate[i]);
    printf("ratio %s: %.3f  (floor / (bound + floor): the best ratio attainable over this "
           "HTTP stack)\n", ratio, median(q, reps));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: kbs_bench URL ATTESTER SIM_DIR PATH [THREADS] [SECONDS] [LABEL] "
                        "[ROUNDS]\n");
        return 2;
    }
    url = argv[1], att = argv[2], simdir = argv[3], path = argv[4];
    int threads = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 4;
    double secs = argc > 6 ? strtod(argv[6], NULL) : 5;
    const char *label = argc > 7 ? argv[7] : "";
    int reps = argc > 8 ? (int)strtol(argv[8], NULL, 10) : 3;
    if (threads < 1 || threads > 256 || reps < 1 || reps > 16)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct vtk_client_opts o = { .url = url, .attester = att, .sim_dir = simdir };
    struct vt_buf out = VT_BUF_INIT, tok = VT_BUF_INIT;
    int st;
    char why[256];
    vt_res r = vtk_client_get_resource(&o, path, &out, &tok, &st, why, sizeof(why));
    vti_buf_free(&out);
    if (r.err) {
        fprintf(stderr, "kbs_bench: warm-up failed: %s\n", why);
        return 1;
    }
    snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", (char *)tok.p);
    vti_buf_free(&tok);
    bound_keys = kbs_bound_new();
    /* the figures are SQLite's: unsuffixed names; other stores carry their label */
    const char *sfx = !*label || !strcmp(label, "sqlite") ? "" : label;
    char w[128], rn[64];
    snprintf(w, sizeof(w), "%s full protocol (%s)", label, att);
    snprintf(rn, sizeof(rn), "kbs_full_run%s%s", *sfx ? "_" : "", sfx);
    const char *only = getenv("KBS_BENCH_ONLY");
    if (!only || !strcmp(only, "full"))
        measure(w, rn, full, kbs_bound_full_run, threads, secs, reps);
    snprintf(w, sizeof(w), "%s resource fetch with token", label);
    snprintf(rn, sizeof(rn), "kbs_token_fetch%s%s", *sfx ? "_" : "", sfx);
    if (!only || !strcmp(only, "fetch"))
        measure(w, rn, fetch, kbs_bound_token_fetch, threads, secs, reps);
    /* KBS_BENCH_FLOOR=1 adds the protocol floor (the store plays no part in it) */
    const char *fl = getenv("KBS_BENCH_FLOOR");
    if (fl && *fl == '1' && (!only || !strcmp(only, "floor"))) {
        measure_floor("HTTP floor of a full run (3 x 404)", "kbs_full_run_ceiling", floor_full,
                      kbs_bound_full_run, threads, secs, reps);
        measure_floor("HTTP floor of a fetch (1 x 404)", "kbs_token_fetch_ceiling",
                      floor_fetch, kbs_bound_token_fetch, threads, secs, reps);
    }
    kbs_bound_free(bound_keys);
    curl_global_cleanup();
    return 0;
}
