/* SPDX-License-Identifier: MIT */
/*
 * sentinel_msg: table tests for the sentinel list (parsing, the order after an answer, a
 * sentinel down or lying), GET-MASTER-ADDR-BY-NAME's reply, ROLE's three shapes, the
 * +switch-master message and the error replies that mean "not the master any more". Replies
 * are the bytes redis 7.0 sends (redis-sentinel.md, live captures), parsed by the RESP reader.
 */
#include "orion/sentinel_msg.h"
#include "../t.h"

#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static struct resp_reply *parse(const char *bytes)
{
    struct resp_reader rd;
    struct resp_reply *r = NULL;

    resp_reader_init(&rd);
    if (resp_reader_feed(&rd, bytes, strlen(bytes)) < 0 || resp_reader_get(&rd, &r) != 1)
        r = NULL;
    resp_reader_release(&rd);
    return r;
}

struct list_case {
    const char *spec;
    int rc;
    size_t n;
    const char *first, *last; /* first and last items as stored */
    const char *err;          /* a part of the error text */
};

static void test_list_parse(void)
{
    static const struct list_case cases[] = {
        {"127.0.0.1:26379", 0, 1, "127.0.0.1:26379", "127.0.0.1:26379", NULL},
        {"a:1,b:2,c:3", 0, 3, "a:1", "c:3", NULL},
        {" a:1 , b:2 ", 0, 2, "a:1", "b:2", NULL},
        {"pi-c.lan:26379,192.168.1.11:26379", 0, 2, "pi-c.lan:26379", "192.168.1.11:26379", NULL},
        {"[::1]:26379", 0, 1, "[::1]:26379", "[::1]:26379", NULL},
        {"[fe80::1]:1,h:65535", 0, 2, "[fe80::1]:1", "h:65535", NULL},
        {"a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8", 0, 8, "a:1", "h:8", NULL},
        {"a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9", -1, 0, NULL, NULL, "more than 8"},
        {"", -1, 0, NULL, NULL, "empty item"},
        {"a:1,", -1, 0, NULL, NULL, "empty item"},
        {",a:1", -1, 0, NULL, NULL, "empty item"},
        {"a:1,,b:2", -1, 0, NULL, NULL, "empty item"},
        {"a", -1, 0, NULL, NULL, "'a' is not HOST:PORT"},
        {"a:", -1, 0, NULL, NULL, "not HOST:PORT"},
        {":26379", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"a:0", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"a:65536", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"a:123456", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"a:+1", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"a:1x", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"a b:1", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"::1:26379", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"[::1]26379", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"[host]:1", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"[::1:1", -1, 0, NULL, NULL, "not HOST:PORT"},
        {"a:1,a:1", -1, 0, NULL, NULL, "sentinel a:1 is listed twice"},
        {"a:1, a:1", -1, 0, NULL, NULL, "listed twice"},
        {"/run/sentinel.sock", -1, 0, NULL, NULL, "not HOST:PORT"},
    };

    for (size_t i = 0; i < ELEMS(cases); i++) {
        const struct list_case *c = &cases[i];
        struct sentinel_list l;
        char err[200] = "";
        int rc = sentinel_list_parse(&l, c->spec, err, sizeof(err));

        is_int(rc, c->rc, "list '%s': rc", c->spec);
        if (c->rc == 0) {
            is_int(l.n, c->n, "list '%s': %zu items", c->spec, c->n);
            is_str(l.addr[0], c->first, "list '%s': first", c->spec);
            is_str(l.addr[l.n - 1], c->last, "list '%s': last", c->spec);
        } else {
            ok(strstr(err, c->err) != NULL, "list '%s': error says '%s' (%s)", c->spec, c->err,
               err);
        }
    }
    {
        struct sentinel_list l;
        char err[64];
        ok(sentinel_list_parse(&l, NULL, err, sizeof(err)) < 0, "list NULL: an error");
    }
}

struct order_case {
    const char *name;
    const char *spec;
    char op;   /* 'f' front, 'b' back */
    size_t i;
    const char *want; /* the list after, joined by ',' */
};

static void test_list_order(void)
{
    static const struct order_case cases[] = {
        {"the 3rd answered", "a:1,b:2,c:3", 'f', 2, "c:3,a:1,b:2"},
        {"the 2nd answered", "a:1,b:2,c:3", 'f', 1, "b:2,a:1,c:3"},
        {"the 1st answered: no change", "a:1,b:2,c:3", 'f', 0, "a:1,b:2,c:3"},
        {"front past the end: no change", "a:1,b:2,c:3", 'f', 3, "a:1,b:2,c:3"},
        {"the 1st lied", "a:1,b:2,c:3", 'b', 0, "b:2,c:3,a:1"},
        {"the 2nd was down", "a:1,b:2,c:3", 'b', 1, "a:1,c:3,b:2"},
        {"the last was down: no change", "a:1,b:2,c:3", 'b', 2, "a:1,b:2,c:3"},
        {"back past the end: no change", "a:1,b:2,c:3", 'b', 7, "a:1,b:2,c:3"},
        {"one sentinel, front", "a:1", 'f', 0, "a:1"},
        {"one sentinel, back", "a:1", 'b', 0, "a:1"},
    };

    for (size_t k = 0; k < ELEMS(cases); k++) {
        const struct order_case *c = &cases[k];
        struct sentinel_list l;
        char err[64], got[200] = "";

        if (sentinel_list_parse(&l, c->spec, err, sizeof(err)) < 0) {
            ok(0, "%s: parse", c->name);
            continue;
        }
        if (c->op == 'f')
            sentinel_list_front(&l, c->i);
        else
            sentinel_list_back(&l, c->i);
        for (size_t i = 0, off = 0; i < l.n; i++)
            off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s", i ? "," : "", l.addr[i]);
        is_str(got, c->want, "order: %s", c->name);
    }
    {
        struct sentinel_list l;
        char err[64];
        sentinel_list_parse(&l, "a:1,[::1]:2", err, sizeof(err));
        is_int(sentinel_list_find(&l, "[::1]:2"), 1, "find: the 2nd");
        is_int(sentinel_list_find(&l, "::1:2"), -1, "find: not there");
    }
}

static void test_names(void)
{
    static const struct {
        const char *label, *name;
        bool ok;
    } cases[] = {
        {"mymaster", "mymaster", true},   {"orion", "orion", true},
        {"a", "a", true},                 {"orion-queue.1", "orion-queue.1", true},
        {"empty", "", false},             {"a space", "my master", false},
        {"a tab", "tab\tname", false},    {"a newline", "nl\n", false},
        {"DEL", "x\x7f", false},
    };
    char longer[SENTINEL_NAME_MAX + 2];

    for (size_t i = 0; i < ELEMS(cases); i++)
        is_int(sentinel_name_ok(cases[i].name), cases[i].ok, "name: %s", cases[i].label);
    ok(!sentinel_name_ok(NULL), "name NULL");
    memset(longer, 'n', sizeof(longer) - 1);
    longer[SENTINEL_NAME_MAX] = '\0';
    ok(sentinel_name_ok(longer), "name of %d bytes", SENTINEL_NAME_MAX);
    longer[SENTINEL_NAME_MAX] = 'n';
    longer[SENTINEL_NAME_MAX + 1] = '\0';
    ok(!sentinel_name_ok(longer), "name of %d bytes", SENTINEL_NAME_MAX + 1);
}

struct addr_case {
    const char *name, *bytes;
    enum sentinel_answer want;
    const char *addr;
};

static void test_master_addr(void)
{
    static const struct addr_case cases[] = {
        {"known (live bytes)", "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n16379\r\n", SENTINEL_ANSWER_ADDR,
         "127.0.0.1:16379"},
        {"LAN ip", "*2\r\n$12\r\n192.168.1.10\r\n$4\r\n6379\r\n", SENTINEL_ANSWER_ADDR,
         "192.168.1.10:6379"},
        {"IPv6 gets brackets", "*2\r\n$3\r\n::1\r\n$4\r\n6379\r\n", SENTINEL_ANSWER_ADDR,
         "[::1]:6379"},
        {"a host name (resolve-hostnames yes)", "*2\r\n$8\r\npi-a.lan\r\n$4\r\n6379\r\n",
         SENTINEL_ANSWER_ADDR, "pi-a.lan:6379"},
        {"unknown name: null array", "*-1\r\n", SENTINEL_ANSWER_UNKNOWN, NULL},
        {"null bulk", "$-1\r\n", SENTINEL_ANSWER_UNKNOWN, NULL},
        {"-NOAUTH", "-NOAUTH Authentication required.\r\n", SENTINEL_ANSWER_REFUSED, NULL},
        {"-IDONTKNOW (before 2.8.7)", "-IDONTKNOW I have not enough information\r\n",
         SENTINEL_ANSWER_REFUSED, NULL},
        {"a data node: unknown command", "-ERR unknown command 'SENTINEL'\r\n",
         SENTINEL_ANSWER_REFUSED, NULL},
        {"the port as an integer", "*2\r\n$9\r\n127.0.0.1\r\n:16379\r\n", SENTINEL_ANSWER_BAD,
         NULL},
        {"port 0", "*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"port 65536", "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n65536\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"port not a number", "*2\r\n$9\r\n127.0.0.1\r\n$3\r\n6x9\r\n", SENTINEL_ANSWER_BAD,
         NULL},
        {"empty ip", "*2\r\n$0\r\n\r\n$4\r\n6379\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"ip with a space", "*2\r\n$3\r\na b\r\n$4\r\n6379\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"ip with a NUL", "*2\r\n$3\r\na\0b\r\n$4\r\n6379\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"three elements", "*3\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\n1\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"one element", "*1\r\n$1\r\na\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"empty array", "*0\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"a status", "+OK\r\n", SENTINEL_ANSWER_BAD, NULL},
        {"nested", "*2\r\n*1\r\n$1\r\na\r\n$4\r\n6379\r\n", SENTINEL_ANSWER_BAD, NULL},
    };

    for (size_t i = 0; i < ELEMS(cases); i++) {
        const struct addr_case *c = &cases[i];
        struct resp_reply *r;
        char addr[SENTINEL_ADDR_MAX] = "";

        /* the "NUL" case carries a NUL inside its bulk: its bytes are longer than strlen */
        if (strstr(c->name, "NUL")) {
            struct resp_reader rd;
            static const char b[] = "*2\r\n$3\r\na\0b\r\n$4\r\n6379\r\n";
            resp_reader_init(&rd);
            resp_reader_feed(&rd, b, sizeof(b) - 1);
            if (resp_reader_get(&rd, &r) != 1)
                r = NULL;
            resp_reader_release(&rd);
        } else {
            r = parse(c->bytes);
        }
        if (!r) {
            ok(0, "master addr %s: the bytes parse", c->name);
            continue;
        }
        is_int(sentinel_master_addr(r, addr, sizeof(addr)), c->want, "master addr: %s", c->name);
        if (c->addr)
            is_str(addr, c->addr, "master addr: %s: the address", c->name);
        resp_reply_free(r);
    }
    {
        struct resp_reply *r = parse("*2\r\n$9\r\n127.0.0.1\r\n$5\r\n16379\r\n");
        char small[10];
        is_int(sentinel_master_addr(r, small, sizeof(small)), SENTINEL_ANSWER_BAD,
               "master addr: does not fit the caller's buffer: bad, not cut");
        is_int(sentinel_master_addr(NULL, small, sizeof(small)), SENTINEL_ANSWER_BAD,
               "master addr: NULL reply");
        resp_reply_free(r);
    }
}

struct role_case {
    const char *name, *bytes;
    enum redis_role_kind kind;
    long long offset;
    size_t replicas;
    const char *master;
    bool linked;
};

static void test_role(void)
{
    static const struct role_case cases[] = {
        {"master with one replica (live)",
         "*3\r\n$6\r\nmaster\r\n:827\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$5\r\n16380\r\n$3\r\n827\r\n",
         REDIS_ROLE_MASTER, 827, 1, "", false},
        {"master alone", "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", REDIS_ROLE_MASTER, 0, 0, "", false},
        {"replica, linked (live)",
         "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:16379\r\n$9\r\nconnected\r\n:827\r\n",
         REDIS_ROLE_REPLICA, 827, 0, "127.0.0.1:16379", true},
        {"replica, connecting",
         "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:16379\r\n$10\r\nconnecting\r\n:-1\r\n",
         REDIS_ROLE_REPLICA, -1, 0, "127.0.0.1:16379", false},
        {"replica of a bad port: still a replica",
         "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:0\r\n$9\r\nconnected\r\n:1\r\n",
         REDIS_ROLE_REPLICA, 1, 0, "", true},
        {"sentinel (live)", "*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n",
         REDIS_ROLE_SENTINEL, 0, 0, "", false},
        {"-NOPERM", "-NOPERM this user has no permissions to run the 'role' command\r\n",
         REDIS_ROLE_BAD, 0, 0, "", false},
        {"master, offset as bulk", "*3\r\n$6\r\nmaster\r\n$3\r\n827\r\n*0\r\n", REDIS_ROLE_BAD,
         0, 0, "", false},
        {"master, two elements", "*2\r\n$6\r\nmaster\r\n:1\r\n", REDIS_ROLE_BAD, 0, 0, "",
         false},
        {"master, replicas not an array", "*3\r\n$6\r\nmaster\r\n:1\r\n$0\r\n\r\n",
         REDIS_ROLE_BAD, 0, 0, "", false},
        {"replica, four elements",
         "*4\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:16379\r\n$9\r\nconnected\r\n",
         REDIS_ROLE_BAD, 0, 0, "", false},
        {"replica, port as bulk",
         "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n$5\r\n16379\r\n$9\r\nconnected\r\n:1\r\n",
         REDIS_ROLE_BAD, 0, 0, "", false},
        {"MASTER in capitals", "*3\r\n$6\r\nMASTER\r\n:0\r\n*0\r\n", REDIS_ROLE_BAD, 0, 0, "",
         false},
        {"an unknown role", "*3\r\n$7\r\nprimary\r\n:0\r\n*0\r\n", REDIS_ROLE_BAD, 0, 0, "",
         false},
        {"empty array", "*0\r\n", REDIS_ROLE_BAD, 0, 0, "", false},
        {"a status", "+master\r\n", REDIS_ROLE_BAD, 0, 0, "", false},
        {"sentinel without its list", "*1\r\n$8\r\nsentinel\r\n", REDIS_ROLE_BAD, 0, 0, "",
         false},
    };

    for (size_t i = 0; i < ELEMS(cases); i++) {
        const struct role_case *c = &cases[i];
        struct resp_reply *r = parse(c->bytes);
        struct redis_role role;

        if (!r) {
            ok(0, "role %s: the bytes parse", c->name);
            continue;
        }
        redis_role_parse(r, &role);
        is_int(role.kind, c->kind, "role: %s: kind", c->name);
        if (c->kind == REDIS_ROLE_MASTER || c->kind == REDIS_ROLE_REPLICA)
            is_int(role.offset, c->offset, "role: %s: offset", c->name);
        if (c->kind == REDIS_ROLE_MASTER)
            is_int(role.replicas, c->replicas, "role: %s: replicas", c->name);
        if (c->kind == REDIS_ROLE_REPLICA) {
            is_str(role.master, c->master, "role: %s: its master", c->name);
            is_int(role.linked, c->linked, "role: %s: linked", c->name);
        }
        resp_reply_free(r);
    }
    {
        struct redis_role role;
        redis_role_parse(NULL, &role);
        is_int(role.kind, REDIS_ROLE_BAD, "role: NULL reply");
    }
}

struct switch_case {
    const char *name;
    const char *payload; /* the message text on +switch-master; NULL: bytes is the reply */
    const char *bytes;
    int want;
    const char *addr;
};

static void test_switch(void)
{
    static const struct switch_case cases[] = {
        {"live message", "mymaster 127.0.0.1 16379 127.0.0.1 16380", NULL, 1, "127.0.0.1:16380"},
        {"LAN", "mymaster 192.168.1.10 6379 192.168.1.11 6379", NULL, 1, "192.168.1.11:6379"},
        {"IPv6", "mymaster ::1 16379 ::2 16380", NULL, 1, "[::2]:16380"},
        {"extra spaces", " mymaster 127.0.0.1  16379 127.0.0.1 16380 ", NULL, 1,
         "127.0.0.1:16380"},
        {"another master's switch", "other 127.0.0.1 16379 127.0.0.1 16380", NULL, 0, NULL},
        {"a name that only starts the same", "mymaster2 127.0.0.1 16379 127.0.0.1 16380", NULL, 0,
         NULL},
        {"a shorter name", "mymaste 127.0.0.1 16379 127.0.0.1 16380", NULL, 0, NULL},
        {"four words", "mymaster 127.0.0.1 16379 127.0.0.1", NULL, -1, NULL},
        {"six words", "mymaster 127.0.0.1 16379 127.0.0.1 16380 x", NULL, -1, NULL},
        {"port 0", "mymaster 127.0.0.1 16379 127.0.0.1 0", NULL, -1, NULL},
        {"port not a number", "mymaster 127.0.0.1 16379 127.0.0.1 163x0", NULL, -1, NULL},
        {"empty", "", NULL, -1, NULL},
        {"the subscribe acknowledgement (live)", NULL,
         "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n", 0, NULL},
        {"PING's answer while subscribed", NULL, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", 0, NULL},
        {"another channel", NULL, "*3\r\n$7\r\nmessage\r\n$6\r\n+sdown\r\n$8\r\nmymaster\r\n",
         0, NULL},
        {"a pattern message", NULL,
         "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$14\r\n+switch-master\r\n$3\r\nabc\r\n", 0, NULL},
        {"the message as an integer", NULL,
         "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n:1\r\n", -1, NULL},
        {"an error", NULL, "-ERR unknown\r\n", 0, NULL},
    };

    for (size_t i = 0; i < ELEMS(cases); i++) {
        const struct switch_case *c = &cases[i];
        char bytes[256], addr[SENTINEL_ADDR_MAX] = "";
        struct resp_reply *r;

        if (c->payload)
            snprintf(bytes, sizeof(bytes),
                     "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$%zu\r\n%s\r\n",
                     strlen(c->payload), c->payload);
        else
            snprintf(bytes, sizeof(bytes), "%s", c->bytes);
        r = parse(bytes);
        if (!r) {
            ok(0, "switch %s: the bytes parse", c->name);
            continue;
        }
        is_int(sentinel_switch_parse(r, "mymaster", addr, sizeof(addr)), c->want, "switch: %s",
               c->name);
        if (c->addr)
            is_str(addr, c->addr, "switch: %s: the address", c->name);
        resp_reply_free(r);
    }
    is_int(sentinel_switch_parse(NULL, "mymaster", NULL, 0), 0, "switch: NULL reply");
}

static void test_not_master(void)
{
    static const struct {
        const char *bytes;
        bool want;
    } cases[] = {
        {"-READONLY You can't write against a read only replica.\r\n", true},
        {"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n",
         true},
        {"-UNBLOCKED force unblock from blocking operation, instance state changed (master -> "
         "replica?)\r\n",
         true},
        {"-READONLY\r\n", true},
        {"-NOREPLICAS Not enough good replicas to write.\r\n", false},
        {"-LOADING Redis is loading the dataset in memory\r\n", false},
        {"-READONLYX something\r\n", false},
        {"-ERR READONLY\r\n", false},
        {"+READONLY\r\n", false},
        {"$8\r\nREADONLY\r\n", false},
    };

    for (size_t i = 0; i < ELEMS(cases); i++) {
        struct resp_reply *r = parse(cases[i].bytes);
        size_t n = strcspn(cases[i].bytes, " \r");
        is_int(redis_err_not_master(r), cases[i].want, "not master: %.*s", (int)n, cases[i].bytes);
        resp_reply_free(r);
    }
    ok(!redis_err_not_master(NULL), "not master: NULL reply");
}

int main(void)
{
    test_list_parse();
    test_list_order();
    test_names();
    test_master_addr();
    test_role();
    test_switch();
    test_not_master();
    return done_testing();
}
