/* SPDX-License-Identifier: MIT */
/*
 * Sentinel discovery on the event loop, over three bare links (redis_link):
 *   q  the resolve's questions: a sentinel's GET-MASTER-ADDR-BY-NAME, then on the same
 *      struct the ROLE of the address it named;
 *   w  the watch: [AUTH,] GET-MASTER-ADDR-BY-NAME, SUBSCRIBE +switch-master, then messages;
 *   v  the ROLE of an address the watch heard of, before the owner is told.
 * What the replies mean is sentinel_msg's business; this file only sequences them.
 *
 * The owner is never called from inside a link's callback (where freeing the struct would
 * pull the link from under its own code): a result or a switch is kept in the struct and
 * handed over from a deferred call (loop_defer), after which nothing here runs.
 */
#include "orion/sentinel.h"
#include "orion/log.h"
#include "orion/redis_link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define WATCH_BACKOFF_MIN 200
#define WATCH_BACKOFF_MAX 2000

enum qphase { Q_ASK, Q_ROLE };

struct sentinel {
    struct loop *l;
    struct sentinel_list list;
    char *master, *user, *password, *data_user, *data_password, *logname;
    long timeout_ms;
    bool role_warned;
    /* what the owner is to hear, from the deferred call */
    unsigned long defer_id;
    bool result_due, switch_due, result_ok;
    char result[SENTINEL_ADDR_MAX], switch_to[SENTINEL_ADDR_MAX];
    /* resolve */
    sentinel_addr_fn *cb;
    void *cb_arg;
    bool resolving;
    enum qphase phase;
    unsigned long start_timer;
    struct sentinel_list walk; /* the order when the resolve started */
    size_t walk_i;
    char asked[SENTINEL_ADDR_MAX]; /* the sentinel asked */
    char named[SENTINEL_ADDR_MAX]; /* the address it named, asked its ROLE */
    char bad[SENTINEL_ADDR_MAX];   /* an address found not to be the master in this walk */
    char errs[480];                /* what each sentinel asked said */
    struct redis_link q;
    /* the address last handed out, and the sentinel it came from */
    char known[SENTINEL_ADDR_MAX];
    /* watch */
    sentinel_switch_fn *fn;
    void *fn_arg;
    struct redis_link w, v;
    char heard_from[SENTINEL_ADDR_MAX]; /* the sentinel whose news v checks */
    size_t watch_i;
    unsigned long watch_timer;
    long watch_backoff;
    bool watch_warned;
};

static void really_free(struct sentinel *s)
{
    redis_link_release(&s->q);
    redis_link_release(&s->w);
    redis_link_release(&s->v);
    if (s->start_timer)
        loop_timer_cancel(s->l, s->start_timer);
    if (s->watch_timer)
        loop_timer_cancel(s->l, s->watch_timer);
    if (s->defer_id)
        loop_defer_cancel(s->l, s->defer_id);
    orion_free(s->master);
    orion_free(s->user);
    orion_free(s->password);
    orion_free(s->data_user);
    orion_free(s->data_password);
    orion_free(s->logname);
    orion_free(s);
}

void sentinel_free(struct sentinel *s)
{
    if (s)
        really_free(s);
}

/* The deferred call: one piece of news per call (a resolve's result first); when more is due
 * another call is scheduled before the owner runs, so the owner may free us. */
static void defer_cb(struct loop *l, void *arg)
{
    struct sentinel *s = arg;
    char addr[SENTINEL_ADDR_MAX];

    (void)l;
    s->defer_id = 0;
    if (s->result_due) {
        sentinel_addr_fn *cb = s->cb;
        s->result_due = false;
        s->resolving = false;
        s->cb = NULL;
        if (s->switch_due)
            s->defer_id = loop_defer(s->l, defer_cb, s);
        snprintf(addr, sizeof(addr), "%s", s->result);
        if (cb)
            cb(s, s->result_ok ? addr : NULL, s->result_ok ? NULL : s->errs, s->cb_arg);
    } else if (s->switch_due) {
        s->switch_due = false;
        snprintf(addr, sizeof(addr), "%s", s->switch_to);
        if (s->fn)
            s->fn(s, addr, s->fn_arg);
    }
}

static void defer(struct sentinel *s)
{
    if (!s->defer_id)
        s->defer_id = loop_defer(s->l, defer_cb, s); /* no memory: the next news tries again */
}

static char *dup_or_null(const char *p) { return p ? orion_strdup(p) : NULL; }

static void q_reply(struct redis_link *k, struct resp_reply *r, int i, void *arg);
static void q_fail(struct redis_link *k, const char *why, void *arg);
static void w_reply(struct redis_link *k, struct resp_reply *r, int i, void *arg);
static void w_fail(struct redis_link *k, const char *why, void *arg);
static void v_reply(struct redis_link *k, struct resp_reply *r, int i, void *arg);
static void v_fail(struct redis_link *k, const char *why, void *arg);

struct sentinel *sentinel_new(struct loop *l, const struct sentinel_opts *o, char *err,
                              size_t errlen)
{
    struct sentinel *s;

    if (!sentinel_name_ok(o->master_name)) {
        orion_errf(err, errlen, "the master name '%s' is empty, too long or has a space",
                   o->master_name ? o->master_name : "");
        errno = EINVAL;
        return NULL;
    }
    s = orion_calloc(1, sizeof(*s));
    if (!s) {
        orion_errf(err, errlen, "out of memory");
        return NULL;
    }
    s->l = l;
    redis_link_init(&s->q, l, q_reply, q_fail, s);
    redis_link_init(&s->w, l, w_reply, w_fail, s);
    redis_link_init(&s->v, l, v_reply, v_fail, s);
    if (sentinel_list_parse(&s->list, o->sentinels, err, errlen) < 0) {
        really_free(s);
        errno = EINVAL;
        return NULL;
    }
    s->master = orion_strdup(o->master_name);
    s->user = dup_or_null(o->user);
    s->password = dup_or_null(o->password);
    s->data_user = dup_or_null(o->data_user);
    s->data_password = dup_or_null(o->data_password);
    s->logname = orion_strdup(o->name ? o->name : "redis");
    s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : SENTINEL_TIMEOUT_MS;
    if (!s->master || !s->logname || (o->user && !s->user) || (o->password && !s->password) ||
        (o->data_user && !s->data_user) || (o->data_password && !s->data_password)) {
        really_free(s);
        orion_errf(err, errlen, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    return s;
}

const char *sentinel_master_name(const struct sentinel *s) { return s->master; }
const struct sentinel_list *sentinel_list(const struct sentinel *s) { return &s->list; }
bool sentinel_busy(const struct sentinel *s) { return s->resolving; }
bool sentinel_watching(const struct sentinel *s)
{
    return redis_link_is_open(&s->w) && s->w.ping_ms > 0;
}

/* --- questions ----------------------------------------------------------------------------- */

/* Open k to addr and queue [AUTH user password,] then the command; -1 with why. */
static int ask(struct sentinel *s, struct redis_link *k, const char *addr, bool data,
               int argc, const char *const *argv, char *why, size_t whylen)
{
    const char *user = data ? s->data_user : s->user, *pw = data ? s->data_password : s->password;
    const char *auth[] = {"AUTH", user ? user : pw, pw};

    if (redis_link_open(k, addr, s->timeout_ms, why, whylen) < 0)
        return -1;
    if ((pw && redis_link_cmd(k, user ? 3 : 2, auth) < 0) || redis_link_cmd(k, argc, argv) < 0) {
        redis_link_close(k);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

static int ask_master(struct sentinel *s, struct redis_link *k, const char *addr, char *why,
                      size_t whylen)
{
    const char *argv[] = {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", s->master};

    return ask(s, k, addr, false, 3, argv, why, whylen);
}

static int ask_role(struct sentinel *s, struct redis_link *k, const char *addr, char *why,
                    size_t whylen)
{
    const char *argv[] = {"ROLE"};

    return ask(s, k, addr, true, 1, argv, why, whylen);
}

/* The reply to the AUTH sent first, if one was: true when r is that reply, with why set when
 * it was refused. Otherwise *i becomes the index of r among the replies after AUTH. */
static bool auth_reply(const struct sentinel *s, const struct resp_reply *r, int *i, bool data,
                       char *why, size_t whylen)
{
    if (!(data ? s->data_password : s->password))
        return false;
    if ((*i)-- > 0)
        return false;
    if (r->type == RESP_ERROR)
        snprintf(why, whylen, "AUTH: %.180s", r->str);
    return true;
}

/* ROLE's answer: true when the address is the master (or cannot be asked: -NOPERM). */
static bool role_master(struct sentinel *s, const struct resp_reply *r, const char *addr,
                        char *why, size_t whylen)
{
    struct redis_role role;

    if (resp_is_error(r, "NOPERM")) {
        if (!s->role_warned)
            log_info("%s: ROLE not permitted at %s (%s); grant +role so that an address a "
                     "sentinel names is checked before use", s->logname, addr, r->str);
        s->role_warned = true;
        return true;
    }
    redis_role_parse(r, &role);
    if (role.kind == REDIS_ROLE_MASTER)
        return true;
    if (role.kind == REDIS_ROLE_REPLICA)
        snprintf(why, whylen, "%s is a replica%s%s, not the master", addr,
                 role.master[0] ? " of " : "", role.master);
    else if (role.kind == REDIS_ROLE_SENTINEL)
        snprintf(why, whylen, "%s is a sentinel, not the master", addr);
    else
        snprintf(why, whylen, "%s: ROLE: %.120s", addr,
                 r->type == RESP_ERROR ? r->str : "an answer of another shape");
    return false;
}

/* --- resolve ------------------------------------------------------------------------------- */

static void resolve_done(struct sentinel *s, const char *addr)
{
    redis_link_close(&s->q);
    if (addr)
        snprintf(s->known, sizeof(s->known), "%s", addr);
    s->result_ok = addr != NULL;
    snprintf(s->result, sizeof(s->result), "%s", addr ? addr : "");
    s->result_due = true;
    defer(s);
}

static void note(struct sentinel *s, const char *addr, const char *what)
{
    size_t n = strlen(s->errs);

    if (n + 4 < sizeof(s->errs))
        snprintf(s->errs + n, sizeof(s->errs) - n, "%s%s: %s", n ? "; " : "", addr, what);
}

/* The sentinel asked now is passed over: noted, sent to the back, the next one asked. */
static void ask_next(struct sentinel *s);

static void pass_over(struct sentinel *s, const char *why)
{
    int i = sentinel_list_find(&s->list, s->asked);

    log_debug("%s: sentinel %s: %s", s->logname, s->asked, why);
    note(s, s->asked, why);
    if (i >= 0)
        sentinel_list_back(&s->list, (size_t)i);
    redis_link_close(&s->q);
    ask_next(s);
}

static void ask_next(struct sentinel *s)
{
    char why[128];

    if (s->walk_i == s->walk.n) {
        resolve_done(s, NULL);
        return;
    }
    snprintf(s->asked, sizeof(s->asked), "%s", s->walk.addr[s->walk_i++]);
    s->phase = Q_ASK;
    if (ask_master(s, &s->q, s->asked, why, sizeof(why)) < 0)
        pass_over(s, why); /* at most SENTINEL_MAX deep */
}

static void named(struct sentinel *s, const char *addr)
{
    char why[300];

    snprintf(s->named, sizeof(s->named), "%s", addr);
    if (!strcmp(addr, s->bad)) { /* already found wanting in this walk */
        snprintf(why, sizeof(why), "named %s, not the master either", addr);
        pass_over(s, why);
        return;
    }
    s->phase = Q_ROLE;
    if (ask_role(s, &s->q, addr, why, sizeof(why)) < 0) {
        char w2[600];
        snprintf(s->bad, sizeof(s->bad), "%s", addr);
        snprintf(w2, sizeof(w2), "named %s: %.200s", addr, why);
        pass_over(s, w2);
    }
}

static void q_reply(struct redis_link *k, struct resp_reply *r, int i, void *arg)
{
    struct sentinel *s = arg;
    char addr[SENTINEL_ADDR_MAX], why[300] = "";

    (void)k;
    if (auth_reply(s, r, &i, s->phase == Q_ROLE, why, sizeof(why))) {
        if (why[0])
            pass_over(s, why);
    } else if (i != 0) {
        /* nothing else was asked */
    } else if (s->phase == Q_ROLE) {
        if (role_master(s, r, s->named, why, sizeof(why))) {
            int at = sentinel_list_find(&s->list, s->asked);
            if (at >= 0)
                sentinel_list_front(&s->list, (size_t)at);
            resolve_done(s, s->named);
        } else {
            log_warnx("%s: sentinel %s named %s as the master of %s, but %s; asking the "
                      "others first from now on", s->logname, s->asked, s->named, s->master,
                      why);
            snprintf(s->bad, sizeof(s->bad), "%s", s->named);
            pass_over(s, why);
        }
    } else {
        switch (sentinel_master_addr(r, addr, sizeof(addr))) {
        case SENTINEL_ANSWER_ADDR:
            named(s, addr);
            break;
        case SENTINEL_ANSWER_UNKNOWN:
            snprintf(why, sizeof(why), "knows no master named %s", s->master);
            pass_over(s, why);
            break;
        case SENTINEL_ANSWER_REFUSED:
            snprintf(why, sizeof(why), "%.200s", r->str);
            pass_over(s, why);
            break;
        default:
            pass_over(s, "an answer that is not an address");
        }
    }
}

static void q_fail(struct redis_link *k, const char *why, void *arg)
{
    struct sentinel *s = arg;
    char w2[600];

    (void)k;
    if (s->phase == Q_ROLE) { /* the sentinel answered; what it named did not */
        snprintf(s->bad, sizeof(s->bad), "%s", s->named);
        snprintf(w2, sizeof(w2), "named %s: %.200s", s->named, why);
        pass_over(s, w2);
    } else {
        pass_over(s, why);
    }
}

static long start_cb(struct loop *l, void *arg)
{
    struct sentinel *s = arg;

    (void)l;
    s->start_timer = 0;
    ask_next(s);
    return -1;
}

int sentinel_resolve(struct sentinel *s, sentinel_addr_fn *cb, void *arg)
{
    sentinel_cancel(s);
    s->start_timer = loop_timer(s->l, 0, start_cb, s);
    if (!s->start_timer)
        return -1;
    s->walk = s->list;
    s->walk_i = 0;
    s->errs[0] = s->bad[0] = '\0';
    s->cb = cb;
    s->cb_arg = arg;
    s->resolving = true;
    return 0;
}

void sentinel_cancel(struct sentinel *s)
{
    if (s->start_timer) {
        loop_timer_cancel(s->l, s->start_timer);
        s->start_timer = 0;
    }
    redis_link_close(&s->q);
    s->resolving = false;
    s->result_due = false;
    s->cb = NULL;
}

/* --- watch --------------------------------------------------------------------------------- */

static void watch_start(struct sentinel *s);

static long watch_retry_cb(struct loop *l, void *arg)
{
    struct sentinel *s = arg;

    (void)l;
    s->watch_timer = 0;
    watch_start(s);
    return -1;
}

/* Leave the watch's sentinel for the next one of the list, after a backoff. */
static void watch_next(struct sentinel *s, const char *why)
{
    long d = s->watch_backoff ? s->watch_backoff : WATCH_BACKOFF_MIN;

    log_debug("%s: sentinel %s (watch): %s", s->logname, s->w.addr, why);
    redis_link_close(&s->w);
    s->watch_i++;
    s->watch_backoff = d * 2 > WATCH_BACKOFF_MAX ? WATCH_BACKOFF_MAX : d * 2;
    if (!s->watch_timer && s->fn)
        s->watch_timer = loop_timer(s->l, d, watch_retry_cb, s);
}

static void watch_start(struct sentinel *s)
{
    const char *sub[] = {"SUBSCRIBE", "+switch-master"};
    const char *addr;
    char why[128];

    if (redis_link_is_open(&s->w) || s->watch_timer || !s->fn || s->list.n == 0)
        return;
    addr = s->list.addr[s->watch_i % s->list.n];
    if (ask_master(s, &s->w, addr, why, sizeof(why)) < 0) {
        snprintf(s->w.addr, sizeof(s->w.addr), "%s", addr);
        watch_next(s, why);
    } else if (redis_link_cmd(&s->w, 2, sub) < 0) {
        watch_next(s, "out of memory");
    }
}

int sentinel_watch(struct sentinel *s, sentinel_switch_fn *fn, void *arg)
{
    s->fn = fn;
    s->fn_arg = arg;
    if (!redis_link_is_open(&s->w) && !s->watch_timer) {
        s->watch_i = 0;
        s->watch_timer = loop_timer(s->l, 0, watch_retry_cb, s);
        if (!s->watch_timer)
            return -1;
    }
    return 0;
}

/* A sentinel says the master is at addr: when that is news, ask addr its ROLE (v_reply). */
static void heard(struct sentinel *s, const char *addr, const char *from)
{
    char why[128];

    if (!s->known[0] || !strcmp(addr, s->known))
        return; /* no news, or the owner has not resolved yet (it will ask by itself) */
    if (redis_link_is_open(&s->v) && !strcmp(s->v.addr, addr))
        return; /* being asked already */
    log_debug("%s: sentinel %s: master %s at %s; asking its ROLE", s->logname, from, s->master,
              addr);
    snprintf(s->heard_from, sizeof(s->heard_from), "%s", from);
    if (ask_role(s, &s->v, addr, why, sizeof(why)) < 0)
        log_debug("%s: %s: %s", s->logname, addr, why);
}

static void w_reply(struct redis_link *k, struct resp_reply *r, int i, void *arg)
{
    struct sentinel *s = arg;
    char addr[SENTINEL_ADDR_MAX], from[SENTINEL_ADDR_MAX], why[200] = "";
    int rc;

    snprintf(from, sizeof(from), "%s", k->addr);
    if (auth_reply(s, r, &i, false, why, sizeof(why))) {
        if (why[0])
            watch_next(s, why);
    } else if (i == 0) { /* GET-MASTER-ADDR-BY-NAME, just before the SUBSCRIBE */
        if (sentinel_master_addr(r, addr, sizeof(addr)) == SENTINEL_ANSWER_ADDR)
            heard(s, addr, from);
        else
            watch_next(s, r->type == RESP_ERROR ? r->str : "it does not know the master");
    } else if (i == 1) {
        if (r->type == RESP_ERROR || !resp_str_eq(resp_at(r, 0), "subscribe")) {
            if (!s->watch_warned)
                log_warnx("%s: sentinel %s refused SUBSCRIBE +switch-master (%s): a failover "
                          "is noticed only when the master's connection fails", s->logname,
                          from, r->type == RESP_ERROR ? r->str : "an unexpected answer");
            s->watch_warned = true;
            watch_next(s, "SUBSCRIBE refused");
        } else {
            s->watch_backoff = 0;
            redis_link_keepalive(k, SENTINEL_PING_MS);
            log_debug("%s: watching sentinel %s for +switch-master", s->logname, from);
        }
    } else if ((rc = sentinel_switch_parse(r, s->master, addr, sizeof(addr))) < 0) {
        log_warnx("%s: sentinel %s: a +switch-master message that does not parse", s->logname,
                  from);
    } else if (rc == 1) {
        heard(s, addr, from);
    }
}

static void w_fail(struct redis_link *k, const char *why, void *arg)
{
    struct sentinel *s = arg;

    (void)k;
    watch_next(s, why);
}

static void v_reply(struct redis_link *k, struct resp_reply *r, int i, void *arg)
{
    struct sentinel *s = arg;
    char why[300] = "", addr[SENTINEL_ADDR_MAX];

    snprintf(addr, sizeof(addr), "%s", k->addr);
    if (auth_reply(s, r, &i, true, why, sizeof(why))) {
        if (why[0]) {
            log_debug("%s: %s: %s", s->logname, addr, why);
            redis_link_close(k);
        }
    } else if (i == 0) {
        redis_link_close(k);
        if (!role_master(s, r, addr, why, sizeof(why))) {
            log_warnx("%s: sentinel %s says the master of %s is %s, but %s", s->logname,
                      s->heard_from, s->master, addr, why);
            if (redis_link_is_open(&s->w) && !strcmp(s->w.addr, s->heard_from))
                watch_next(s, "it named a master that is not one");
        } else if (strcmp(addr, s->known)) {
            log_info("%s: sentinel %s: master %s is now at %s (was %s)", s->logname,
                     s->heard_from, s->master, addr, s->known);
            snprintf(s->known, sizeof(s->known), "%s", addr);
            snprintf(s->switch_to, sizeof(s->switch_to), "%s", addr);
            s->switch_due = true;
            defer(s);
        }
    }
}

static void v_fail(struct redis_link *k, const char *why, void *arg)
{
    struct sentinel *s = arg;

    log_debug("%s: %s: %s", s->logname, k->addr, why);
}
