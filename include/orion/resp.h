/* SPDX-License-Identifier: MIT */
/*
 * resp: RESP2 (the Redis protocol) writer and incremental reader. Pure: no I/O.
 *
 * The reader takes bytes in any split (resp_reader_feed) and hands out whole replies
 * (resp_reader_get). It keeps its place between calls, so a reply arriving one byte at a time
 * costs no re-parse. Limits (include/orion/limits.h): bulk size, array length, nesting depth
 * and buffered bytes; passing one is a protocol error, never an allocation of the declared
 * size. Errors are sticky: after -1 the reader must be reset (the connection dropped).
 *
 * A reply and everything below it live in one arena: resp_reply_free() on the top reply
 * frees all of it. Views (str/len) stay valid until then. Bulk strings are NUL-terminated.
 */
#ifndef ORION_RESP_H
#define ORION_RESP_H

#include <stdbool.h>
#include <stddef.h>

#include "orion/buf.h"
#include "orion/limits.h"

enum resp_type {
    RESP_STATUS = 1, /* +OK */
    RESP_ERROR,      /* -ERR ... */
    RESP_INT,        /* :12 */
    RESP_BULK,       /* $3 abc */
    RESP_NIL,        /* $-1 (nil bulk) */
    RESP_NIL_ARRAY,  /* *-1 */
    RESP_ARRAY       /* *N */
};

struct resp_arena;

struct resp_reply {
    enum resp_type type;
    long long integer;        /* RESP_INT */
    const char *str;          /* STATUS, ERROR, BULK: NUL-terminated */
    size_t len;               /* of str */
    struct resp_reply *elem;  /* ARRAY: n elements */
    size_t n;
    struct resp_arena *arena; /* set on the top reply only */
};

struct resp_frame {
    struct resp_reply *arr;
    size_t next;
};

struct resp_reader {
    struct buf in;
    struct resp_arena *arena;
    struct resp_arena *spare; /* the 16 KiB block kept for the next reply (recycle) */
    struct resp_arena *reuse; /* the last reply's blocks past spare, for the next one only */
    struct resp_reply *root;
    struct resp_frame stack[ORION_RESP_MAX_DEPTH];
    int depth;
    int err; /* 0 or -1 once a protocol error was seen */
    char errstr[128];
};

void resp_reader_init(struct resp_reader *r);
void resp_reader_release(struct resp_reader *r);
void resp_reader_reset(struct resp_reader *r); /* drop buffered bytes, state and error */
/* 0, or -1 (ENOBUFS past ORION_RESP_MAX_REPLY buffered, ENOMEM). */
int resp_reader_feed(struct resp_reader *r, const void *data, size_t n);
/* 1: *out is a whole reply (the caller frees it); 0: need more bytes; -1: protocol error or
 * ENOMEM, reason in r->errstr. */
int resp_reader_get(struct resp_reader *r, struct resp_reply **out);
void resp_reply_free(struct resp_reply *reply);
/* Free a whole reply that r returned, keeping one 16 KiB block for r's next replies and, for
 * the next reply only, up to 512 KiB of the further blocks it needed. */
void resp_reader_recycle(struct resp_reader *r, struct resp_reply *reply);
/* The bytes of reply blocks r holds between replies (the kept block and those waiting). */
size_t resp_reader_held(const struct resp_reader *r);
/* A deep copy of r (any element of a reply) in its own arena, or NULL (ENOMEM). */
struct resp_reply *resp_reply_clone(const struct resp_reply *r);
/* The bytes resp_reply_clone_in needs for r. */
size_t resp_reply_clone_size(const struct resp_reply *r);
/* A deep copy of r built in mem (n bytes, aligned as malloc aligns), or NULL when it does not
 * fit. Nothing is allocated; resp_reply_free of it frees nothing (mem is the caller's). */
struct resp_reply *resp_reply_clone_in(const struct resp_reply *r, void *mem, size_t n);

/* Append one command (an array of bulk strings). len may be NULL: strlen of each argv. */
int resp_format(struct buf *out, int argc, const char *const *argv, const size_t *len);

/*
 * A command under construction: arguments are appended one by one (copied), then handed to
 * the Redis client as argv/len arrays. Up to RESP_CMD_MAX_ARGS arguments.
 */
#define RESP_CMD_MAX_ARGS 128
struct resp_cmd {
    struct buf bytes;
    size_t off[RESP_CMD_MAX_ARGS], len[RESP_CMD_MAX_ARGS];
    int argc;
    int err; /* sticky: an append failed (too many arguments, ENOMEM) */
    const char *argv[RESP_CMD_MAX_ARGS];
};
void resp_cmd_init(struct resp_cmd *c);
void resp_cmd_release(struct resp_cmd *c);
void resp_cmd_add(struct resp_cmd *c, const void *p, size_t n);
void resp_cmd_adds(struct resp_cmd *c, const char *s);
void resp_cmd_addf(struct resp_cmd *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Resolve argv pointers (valid until the next append; each is also NUL-terminated); -1 when
 * an append failed. */
int resp_cmd_finish(struct resp_cmd *c);

/* Helpers for reading replies. */
bool resp_is_error(const struct resp_reply *r, const char *prefix); /* prefix NULL: any error */
bool resp_is_nil(const struct resp_reply *r);                        /* NIL or NIL_ARRAY */
const struct resp_reply *resp_at(const struct resp_reply *r, size_t i); /* NULL past the end */
bool resp_str_eq(const struct resp_reply *r, const char *s);
/* A flat field/value array (HGETALL, stream entry fields): the value of field, or NULL. */
const struct resp_reply *resp_field(const struct resp_reply *arr, const char *field);

#endif
