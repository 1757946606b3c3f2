/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel_resolve.c - name lookups for the tunnel's proxy modes without blocking its event
 * loop: a few threads call getaddrinfo on queued requests and hand each finished request back
 * through a pipe that the loop polls (tunnel.h). The loop owns a request again once it has
 * read its pointer from the pipe; a connection that went away meanwhile has cleared owner,
 * and the loop then just frees the request. getaddrinfo cannot be interrupted: the
 * connection's deadline (--timeout) refuses it while the thread finishes on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tunnel.h"

#define RESOLVE_QUEUE_MAX 256

struct tun_resolver {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct tun_lookup *head, *tail; /* waiting for a thread */
    size_t queued;
    bool stop;
    int rfd, wfd;                   /* finished requests: pointers, one write each */
    pthread_t threads[TUN_RESOLVE_THREADS];
    size_t n_threads;
};

static void lookup_one(struct tun_lookup *q)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res = NULL;
    q->gai = getaddrinfo(q->host, q->port, &hints, &res);
    if (q->gai == 0 && (!res || res->ai_addrlen > sizeof(q->addr)))
        q->gai = EAI_FAIL;
    if (q->gai == 0) {
        memcpy(&q->addr, res->ai_addr, res->ai_addrlen);
        q->addr_len = res->ai_addrlen;
    }
    if (res)
        freeaddrinfo(res);
}

static void *worker(void *arg)
{
    struct tun_resolver *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->head && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop)
            break;
        struct tun_lookup *q = r->head;
        r->head = q->next;
        if (!r->head)
            r->tail = NULL;
        r->queued--;
        pthread_mutex_unlock(&r->mu);
        lookup_one(q);
        ssize_t w;
        do
            w = write(r->wfd, &q, sizeof(q)); /* < PIPE_BUF: atomic; the pipe holds them all */
        while (w < 0 && errno == EINTR);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int tun_resolver_start(struct tun_resolver **ret)
{
    *ret = NULL;
    struct tun_resolver *r = calloc(1, sizeof(*r));
    int p[2];
    if (!r)
        return ENOMEM;
    if (pipe2(p, O_CLOEXEC) != 0) {
        int e = errno;
        free(r);
        return e;
    }
    r->rfd = p[0];
    r->wfd = p[1];
    (void)fcntl(r->rfd, F_SETFL, fcntl(r->rfd, F_GETFL) | O_NONBLOCK);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    for (size_t i = 0; i < TUN_RESOLVE_THREADS; i++) {
        if (pthread_create(&r->threads[i], NULL, worker, r) != 0)
            break;
        r->n_threads++;
    }
    if (r->n_threads == 0) {
        tun_resolver_stop(r);
        return EAGAIN;
    }
    *ret = r;
    return 0;
}

int tun_resolver_fd(const struct tun_resolver *r)
{
    return r ? r->rfd : -1;
}

bool tun_resolver_submit(struct tun_resolver *r, struct tun_lookup *q)
{
    pthread_mutex_lock(&r->mu);
    bool ok = r->queued < RESOLVE_QUEUE_MAX && !r->stop;
    if (ok) {
        q->next = NULL;
        if (r->tail)
            r->tail->next = q;
        else
            r->head = q;
        r->tail = q;
        r->queued++;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return ok;
}

struct tun_lookup *tun_resolver_done(struct tun_resolver *r)
{
    struct tun_lookup *q = NULL;
    ssize_t n = read(r->rfd, &q, sizeof(q));
    return n == (ssize_t)sizeof(q) ? q : NULL;
}

/* Stop the threads (each finishes the lookup it is in), then free what is left: queued
 * requests and finished ones not yet read. The loop has no connections left. */
void tun_resolver_stop(struct tun_resolver *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    for (size_t i = 0; i < r->n_threads; i++)
        pthread_join(r->threads[i], NULL);
    for (struct tun_lookup *q = r->head, *next; q; q = next) {
        next = q->next;
        free(q);
    }
    for (struct tun_lookup *q; (q = tun_resolver_done(r)) != NULL;)
        free(q);
    close(r->rfd);
    close(r->wfd);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
