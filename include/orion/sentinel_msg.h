/* SPDX-License-Identifier: MIT */
/*
 * sentinel_msg: what Redis Sentinel and a Redis data node answer during discovery and
 * failover, read from parsed RESP2 replies, and the order in which the sentinels are asked.
 * Pure: no I/O, no clock. Shapes (redis 7.0, docs/PROTOCOL.md "Redis Sentinel"):
 *
 *   SENTINEL GET-MASTER-ADDR-BY-NAME n  *2 $ip $port   (the port is a bulk string)
 *                                       *-1            (no master of that name)
 *   ROLE on a master                    *3 $master :offset *N [*3 $ip $port $offset ...]
 *   ROLE on a replica                   *5 $slave $ip :port $state :offset
 *   ROLE on a sentinel                  *2 $sentinel *N [$name ...]
 *   a +switch-master message            *3 $message $+switch-master
 *                                          $"name old-ip old-port new-ip new-port"
 *
 * Every function reads only what it is given: a reply of another shape is a clear "bad"
 * result, never a crash (the fuzz target fuzz_sentinel_msg feeds them arbitrary replies).
 * An address is written as "ip:port", or "[ip]:port" when ip holds a ':' (IPv6), the form
 * net_connect takes; an ip with a space, a control byte or more than SENTINEL_HOST_MAX bytes,
 * or a port outside 1..65535, is bad.
 */
#ifndef ORION_SENTINEL_MSG_H
#define ORION_SENTINEL_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/resp.h"

#define SENTINEL_MAX 8        /* sentinels in one --redis-sentinels list */
#define SENTINEL_HOST_MAX 255 /* bytes of a host name or ip */
#define SENTINEL_ADDR_MAX 264 /* "[host]:65535" and its NUL */
#define SENTINEL_NAME_MAX 128 /* bytes of a master name */

/* The sentinels in the order they are asked: the one that last answered well first, one
 * that was down or named a non-master last. */
struct sentinel_list {
    char addr[SENTINEL_MAX][SENTINEL_ADDR_MAX];
    size_t n;
};

/* "HOST:PORT,HOST:PORT,..." (spaces around items allowed, "[v6]:PORT" for IPv6): 1 to
 * SENTINEL_MAX items, each with a host and a port in 1..65535, no item twice. 0, or -1 with
 * the reason in err (naming the item). */
int sentinel_list_parse(struct sentinel_list *l, const char *spec, char *err, size_t errlen);
/* Move item i to the front (it answered, and what it named was the master) or to the back
 * (it was down, refused us, or named an address that is not the master); the others keep
 * their order. i out of range: nothing. */
void sentinel_list_front(struct sentinel_list *l, size_t i);
void sentinel_list_back(struct sentinel_list *l, size_t i);
/* Index of addr in l, or -1. */
int sentinel_list_find(const struct sentinel_list *l, const char *addr);

/* A master name as Sentinel takes it: 1..SENTINEL_NAME_MAX bytes, no space or control byte. */
bool sentinel_name_ok(const char *name);

enum sentinel_answer {
    SENTINEL_ANSWER_ADDR = 1, /* addr holds the master's address */
    SENTINEL_ANSWER_UNKNOWN,  /* null: this sentinel monitors no master of that name */
    SENTINEL_ANSWER_REFUSED,  /* an error reply (-NOAUTH, -NOPERM, -ERR ...) */
    SENTINEL_ANSWER_BAD       /* another shape, or an ip/port that is not an address */
};
/* The reply to SENTINEL GET-MASTER-ADDR-BY-NAME; addr (n bytes) is set only for ADDR. */
enum sentinel_answer sentinel_master_addr(const struct resp_reply *r, char *addr, size_t n);

enum redis_role_kind { REDIS_ROLE_BAD = 0, REDIS_ROLE_MASTER, REDIS_ROLE_REPLICA,
                       REDIS_ROLE_SENTINEL };
struct redis_role {
    enum redis_role_kind kind;
    long long offset;      /* MASTER, REPLICA: replication offset (-1 on a replica not linked) */
    size_t replicas;       /* MASTER: replicas listed (those online) */
    char master[SENTINEL_ADDR_MAX]; /* REPLICA: the master it follows ("" if not an address) */
    bool linked;           /* REPLICA: its state is "connected" */
};
/* The reply to ROLE; kind BAD for an error reply or any other shape. */
void redis_role_parse(const struct resp_reply *r, struct redis_role *out);

/* A reply read on a connection subscribed to +switch-master. 1: a switch of master `name`,
 * its new address in addr (n bytes); 0: something else to ignore (the SUBSCRIBE
 * acknowledgement, a PING's answer, another master's switch, another channel); -1: a message
 * on +switch-master that does not parse. */
int sentinel_switch_parse(const struct resp_reply *r, const char *name, char *addr, size_t n);

/* An error reply saying that this connection no longer reaches a master that takes writes:
 * -READONLY (a replica, or a master demoted since), -MASTERDOWN (a replica that lost its
 * master), -UNBLOCKED (a blocked command ended because the master became a replica). */
bool redis_err_not_master(const struct resp_reply *r);

#endif
