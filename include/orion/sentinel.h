/* SPDX-License-Identifier: MIT */
/*
 * sentinel: where is the master? Asks Redis Sentinel, on the event loop, and hears when the
 * master moves. The procedure is Redis's guideline for Sentinel clients
 * (docs/PROTOCOL.md "Redis Sentinel"):
 *
 * - resolve: ask the sentinels one after the other, in the list's order, each with
 *   SENTINEL GET-MASTER-ADDR-BY-NAME (after AUTH when a sentinel password is set), then ask
 *   the address it names for its ROLE (after AUTH with the data nodes' credentials). The
 *   first address whose ROLE is master is the answer, and the sentinel that named it moves
 *   to the front of the list. A sentinel that is down, refuses, knows no such master, or
 *   names an address that is not a master (it lies, or is stale, or that master is dead)
 *   is passed over and moves to the back, so the next resolve asks another first. Each
 *   question (connect to answer) has timeout_ms. Every sentinel failing is an error naming
 *   what each said. An ACL user without +role cannot ask ROLE: the address is then taken as
 *   it is (logged once).
 * - watch: one connection, to the first sentinel of the list, subscribed to +switch-master.
 *   Its GET-MASTER-ADDR-BY-NAME is sent just before the SUBSCRIBE, on the same connection,
 *   so a switch missed while no link was up is caught when the link is made again. A new
 *   address heard there is asked its ROLE before the owner hears of it. A PING every
 *   SENTINEL_PING_MS checks the link (a host that died sends no RST); a link that fails
 *   moves to the next sentinel after a short backoff. Messages can be lost: a watch only
 *   speeds up what a lost connection to the master starts anyway (a resolve).
 *
 * Callbacks run later, from the loop, never inside the call that started them. The owner may
 * call any function of this module (sentinel_free too) from inside a callback.
 */
#ifndef ORION_SENTINEL_H
#define ORION_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/loop.h"
#include "orion/sentinel_msg.h"

#define SENTINEL_TIMEOUT_MS 1000 /* default: connect + answer, per sentinel */
#define SENTINEL_PING_MS 2000    /* a watch link's PING interval */

struct sentinel_opts {
    const char *sentinels;   /* "HOST:PORT,HOST:PORT,..." (sentinel_list_parse) */
    const char *master_name; /* as in "sentinel monitor NAME ..." */
    const char *user;        /* the sentinels' ACL user; NULL: AUTH password alone */
    const char *password;    /* the sentinels' requirepass or the user's; NULL: no AUTH */
    const char *data_user;   /* the data nodes' AUTH, for ROLE (as struct redis_opts) */
    const char *data_password;
    const char *name;        /* for log lines, e.g. "redis" */
    long timeout_ms;         /* 0: SENTINEL_TIMEOUT_MS */
};

struct sentinel;

/* addr: the master's address (its ROLE said master), or NULL with err (a sentence) when no
 * sentinel gave one. */
typedef void sentinel_addr_fn(struct sentinel *s, const char *addr, const char *err, void *arg);
/* A sentinel says the master is now at addr (different from the last address this module
 * handed out, and its ROLE said master). */
typedef void sentinel_switch_fn(struct sentinel *s, const char *addr, void *arg);

/* NULL with err set: a bad list or master name (errno EINVAL), or ENOMEM. Strings copied. */
struct sentinel *sentinel_new(struct loop *l, const struct sentinel_opts *o, char *err,
                              size_t errlen);
void sentinel_free(struct sentinel *s); /* no callback runs after it; accepts NULL */

/* Start a resolve; cb runs exactly once, later, unless sentinel_cancel or sentinel_free come
 * first. A resolve already running is cancelled (its callback never runs). 0, or -1 ENOMEM. */
int sentinel_resolve(struct sentinel *s, sentinel_addr_fn *cb, void *arg);
void sentinel_cancel(struct sentinel *s);
bool sentinel_busy(const struct sentinel *s); /* a resolve is running */
/* Start watching; fn runs on each switch. Watching again replaces fn. 0, or -1 ENOMEM. */
int sentinel_watch(struct sentinel *s, sentinel_switch_fn *fn, void *arg);

const char *sentinel_master_name(const struct sentinel *s);
/* The list in its current order (tests, --check-config). */
const struct sentinel_list *sentinel_list(const struct sentinel *s);
/* The watch link is subscribed now. */
bool sentinel_watching(const struct sentinel *s);

#endif
