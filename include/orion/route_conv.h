/* SPDX-License-Identifier: MIT */
/*
 * route_conv: conversation (KV-cache) affinity. A pure module: no I/O, no clock, no allocation.
 *
 * Ollama keeps, per loaded model, the tokens of the last prompt (and its answer) in each of its
 * OLLAMA_NUM_PARALLEL slots (default 1) and evaluates only what follows the longest common
 * prefix; from v0.30 idle slots are also kept in a host-RAM prompt cache and copied back
 * (reference/conversation-affinity.md §1). A chat client resends the whole history each turn,
 * so turn N+1's prompt begins with turn N's prompt and answer: on the node that ran turn N
 * only the new message is evaluated; anywhere else the whole history is (≈ 27 s for 2 000
 * tokens on a 1B model on a Pi 5, 75 s on a 3B). The rendered messages are the one signal
 * every client sends, so a conversation is recognised by them alone:
 *
 *   Chain:  h_0 = H(seed, role_0, content_0), h_i = H(h_{i-1}, role_i, content_i), FNV-1a 64
 *           over the bytes with a separator; the model is not in the chain (records carry it).
 *           A request keeps the last ROUTE_CONV_TAIL hashes and the estimated tokens up to each
 *           message: tokens(message) = ceil(bytes / 4) + 4 (≈ 4 bytes a token for English
 *           text with the Llama and Gemma tokenizers, plus the template's markers).
 *   Record: what a node's cache holds for a model: the chain hash at the last message of the
 *           prompt it ran (n messages), the tokens it holds (prompt + answer), when it was
 *           used, and whether it is in a slot (live) or only in the host cache (parked).
 *   Match:  request c continues record R when c.n >= R.n and c's hash at message R.n - 1 is
 *           R.h. The cache then holds c's tokens up to message R.n (the answer R produced,
 *           which c carries as message R.n) when c.n >= R.n + 2, else up to R.n - 1.
 *           (A regenerate, c.n = R.n, matches too: all of c is cached.)
 *   No hit: when c's estimated tokens exceed ctx_tokens (Ollama drops the oldest messages to
 *           fit num_ctx, so the prefix changes every turn: conversation-affinity.md §1.5).
 *
 * Slots (route_conv_note_sent): a request sent to (node, model) that continues a record takes
 * that record over (it now ends at the request's last message); otherwise it takes a free slot
 * (fewer than `slots` live records of that model), else it displaces the least recently used
 * live record of that model: parked when the node has a host cache, else forgotten. A node
 * keeps at most ROUTE_CONV_PER_NODE records; past that the least recently used parked one,
 * then live one, goes. route_conv_drop_model forgets a model's records (it was unloaded:
 * every slot and the host cache die with the runner).
 *
 * Worth of a record (route_conv_worth, what displacing it costs later): the chance that it
 * continues, p x (1 - idle / conv_keep_s) (0 once idle conv_keep_s), times the time its
 * tokens take to evaluate again at `tps` tokens/s, in ms. A parked record costs nothing to
 * displace from its slot (it is still in the host cache).
 * The chance p (route_conv_chance) is learned from the requests themselves: with c0, c1, c2
 * the counts of requests of at most 2 messages (a first prompt, with or without a system
 * message), of 3-4 (a second turn) and of 5 or more (later turns), each decayed by 1/256 per
 * request counted,
 *   a record of at most 2 messages continues with p = (c1 + 2 prior) / (c0 + 2)
 *   a longer one                       with p = (c2 + 2 prior) / (c1 + c2 + 2)
 * (clamped to 0..1; prior is settings conv_p): single prompts, or a client's background tasks
 * that are never continued, then weigh nothing, while a chat well under way weighs much.
 *
 * Limits: ROUTE_CONV_TAIL message positions per request (a continuation is recognised when
 * the record's last message is among the request's last ROUTE_CONV_TAIL), any number of
 * messages (the chain folds them all), ROUTE_CONV_PER_NODE records per node.
 */
#ifndef ORION_ROUTE_CONV_H
#define ORION_ROUTE_CONV_H

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_CONV_TAIL 16    /* message positions a request keeps */
#define ROUTE_CONV_PER_NODE 8 /* records a node keeps */

/* A request's messages as a prefix chain. route_conv_init, then route_conv_add per message in
 * order. Zeroed memory is an empty chain too. */
struct route_conv {
    unsigned long long h[ROUTE_CONV_TAIL]; /* h[i % TAIL]: the chain after message i */
    unsigned long tok[ROUTE_CONV_TAIL];    /* tokens of messages 0..i (estimated) */
    size_t n;                              /* messages added */
};

/* Decayed counts of requests by their number of messages (see Worth). Zeroed: none yet. */
struct route_conv_stats {
    double c[3];
};

/* What one node's cache holds for one model (see above). */
struct route_conv_rec {
    unsigned long long h; /* chain hash at its last message */
    unsigned long model;  /* hash of the normalised model key (route_conv_model) */
    unsigned long n;      /* messages its prompt had */
    unsigned long tokens; /* tokens it holds: prompt + answer (estimated) */
    double used;          /* when a request for it was last sent there */
    bool live;            /* in a slot; false: only in the host-RAM prompt cache */
};

/* The records of one node. Zeroed memory is an empty table. */
struct route_conv_table {
    struct route_conv_rec rec[ROUTE_CONV_PER_NODE];
    size_t n;
};

void route_conv_init(struct route_conv *c);
/* Append one message: role (e.g. "user") and its text (len bytes; images or tool calls the
 * caller serialises into it, or adds with route_conv_extend). */
void route_conv_add(struct route_conv *c, const char *role, const char *text, size_t len);
/* Fold more bytes into the last message (no-op before the first). */
void route_conv_extend(struct route_conv *c, const void *data, size_t len);
/* The chain hash after message i, or 0 when i is not among the kept tail (or past the end). */
unsigned long long route_conv_hash_at(const struct route_conv *c, size_t i);
/* Estimated tokens of messages 0..i (0 when not kept); of the whole chain: i = n - 1. */
unsigned long route_conv_tokens_at(const struct route_conv *c, size_t i);
unsigned long route_conv_tokens(const struct route_conv *c);
/* The model hash records carry: FNV-1a of the normalised key. */
unsigned long route_conv_model(const char *model_key);

/* Tokens of c that node t holds for model (see Match), 0 without a match or past ctx_tokens.
 * *rec (may be NULL) gets the matching record's index, or -1. */
unsigned long route_conv_cached(const struct route_conv_table *t, unsigned long model,
                                const struct route_conv *c, unsigned long ctx_tokens, int *rec);

/* The record c would displace from a slot on t (no match, every one of `slots` slots of that
 * model live), or -1. */
int route_conv_victim(const struct route_conv_table *t, unsigned long model,
                      const struct route_conv *c, unsigned slots, unsigned long ctx_tokens);

/* Count request c (NULL: nothing) in s. */
void route_conv_count(struct route_conv_stats *s, const struct route_conv *c);
/* The chance that record r continues (see Worth), prior = settings conv_p. */
double route_conv_chance(const struct route_conv_stats *s, const struct route_conv_rec *r,
                         double prior);
/* What displacing record r costs later, in ms (see Worth, p its chance); 0 for a parked
 * one. */
double route_conv_worth(const struct route_conv_rec *r, double tps, double p, double conv_keep_s,
                        double now);

/* c (NULL: a prompt without a chain, which still takes a slot) was sent to this node for
 * model; answer_tokens is the expected length of its answer. host_cache: the node keeps
 * displaced slots in host RAM (v0.30+). */
void route_conv_note_sent(struct route_conv_table *t, unsigned long model,
                          const struct route_conv *c, unsigned long answer_tokens,
                          unsigned slots, bool host_cache, double now);

/* Forget every record of model (unloaded). */
void route_conv_drop_model(struct route_conv_table *t, unsigned long model);

#endif
