/* SPDX-License-Identifier: MIT */
/*
 * A bare RESP2 connection: connect, write what was queued, hand every reply out in order.
 * After each callback the link is looked at again: the callback may have closed it, or
 * closed it and opened a new connection in the same struct (fd and replies start over).
 */
#include "orion/redis_link.h"
#include "orion/net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINK_OUT_MAX 65536

void redis_link_init(struct redis_link *k, struct loop *l, redis_link_reply_fn *on_reply,
                     redis_link_fail_fn *on_fail, void *arg)
{
    memset(k, 0, sizeof(*k));
    k->l = l;
    k->fd = -1;
    k->on_reply = on_reply;
    k->on_fail = on_fail;
    k->arg = arg;
    buf_init(&k->out, LINK_OUT_MAX);
    resp_reader_init(&k->rd);
}

void redis_link_close(struct redis_link *k)
{
    if (k->fd >= 0) {
        loop_unwatch(k->l, k->fd);
        close(k->fd);
        k->fd = -1;
    }
    if (k->timer) {
        loop_timer_cancel(k->l, k->timer);
        k->timer = 0;
    }
    buf_reset(&k->out);
    resp_reader_reset(&k->rd);
    k->connecting = k->ping_out = false;
    k->replies = 0;
    k->ping_ms = 0;
}

void redis_link_release(struct redis_link *k)
{
    redis_link_close(k);
    buf_release(&k->out);
    resp_reader_release(&k->rd);
}

bool redis_link_is_open(const struct redis_link *k) { return k->fd >= 0; }

static void link_fail(struct redis_link *k, const char *why)
{
    char keep[200];

    snprintf(keep, sizeof(keep), "%s", why); /* why may point into the link (errstr) */
    redis_link_close(k);
    k->on_fail(k, keep, k->arg);
}

static void flush(struct redis_link *k)
{
    while (buf_size(&k->out)) {
        long n = net_write(k->fd, buf_data(&k->out), buf_size(&k->out));
        if (n < 0) {
            link_fail(k, strerror(errno));
            return;
        }
        if (n == 0)
            break;
        buf_consume(&k->out, (size_t)n);
    }
    loop_set_events(k->l, k->fd, POLLIN | (buf_size(&k->out) ? POLLOUT : 0));
}

int redis_link_cmd(struct redis_link *k, int argc, const char *const *argv)
{
    if (resp_format(&k->out, argc, argv, NULL) < 0)
        return -1;
    if (k->fd >= 0 && !k->connecting)
        flush(k); /* may fail the link: on_fail runs, as for any write */
    return 0;
}

/* Read what is there and hand it out; stops when a callback closed or replaced the link. */
static void read_some(struct redis_link *k, int fd)
{
    char tmp[4096];
    long n = net_read(fd, tmp, sizeof(tmp));
    struct resp_reply *r;
    int rc;

    if (n < 0) {
        link_fail(k, errno ? strerror(errno) : "connection closed by the server");
        return;
    }
    if (resp_reader_feed(&k->rd, tmp, (size_t)n) < 0) {
        link_fail(k, "reply too large");
        return;
    }
    while (k->fd == fd && !k->connecting && (rc = resp_reader_get(&k->rd, &r)) != 0) {
        if (rc < 0) {
            link_fail(k, k->rd.errstr);
            return;
        }
        k->ping_out = false; /* any reply shows the server is there */
        k->on_reply(k, r, k->replies++, k->arg);
        resp_reply_free(r);
    }
}

static void io_cb(struct loop *l, int fd, int revents, void *arg)
{
    struct redis_link *k = arg;
    char err[128];

    (void)l;
    if (k->fd != fd)
        return;
    if (k->connecting) {
        if (net_connect_done(fd, err, sizeof(err)) < 0) {
            link_fail(k, err);
            return;
        }
        k->connecting = false;
        flush(k);
        return;
    }
    if (revents & (POLLIN | POLLHUP | POLLERR))
        read_some(k, fd);
    if (k->fd == fd && !k->connecting && (revents & POLLOUT))
        flush(k);
}

static long timer_cb(struct loop *l, void *arg)
{
    struct redis_link *k = arg;
    const char *ping[] = {"PING"};
    char why[64];

    (void)l;
    if (!k->ping_ms || k->ping_out) {
        k->timer = 0;
        snprintf(why, sizeof(why), "no answer within %ld ms",
                 k->ping_ms ? k->ping_ms : k->timeout_ms);
        link_fail(k, why);
        return -1;
    }
    k->ping_out = true;
    redis_link_cmd(k, 1, ping); /* no memory: the next tick finds ping_out and fails it */
    return k->fd < 0 ? -1 : k->ping_ms; /* the write failed: closed */
}

int redis_link_open(struct redis_link *k, const char *addr, long timeout_ms, char *why,
                    size_t whylen)
{
    int pending;

    redis_link_close(k);
    snprintf(k->addr, sizeof(k->addr), "%s", addr);
    k->timeout_ms = timeout_ms;
    k->fd = net_connect(addr, &pending, why, whylen);
    if (k->fd < 0)
        return -1;
    if (loop_watch(k->l, k->fd, POLLOUT, io_cb, k) < 0 ||
        !(k->timer = loop_timer(k->l, timeout_ms, timer_cb, k))) {
        redis_link_close(k);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    k->connecting = true;
    return 0;
}

void redis_link_keepalive(struct redis_link *k, long ping_ms)
{
    if (k->fd < 0)
        return;
    if (k->timer)
        loop_timer_cancel(k->l, k->timer);
    k->ping_ms = ping_ms;
    k->ping_out = false;
    k->timer = loop_timer(k->l, ping_ms, timer_cb, k);
}
