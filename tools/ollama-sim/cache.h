/* SPDX-License-Identifier: MIT */
/*
 * cache: one loaded model's prompt (KV) cache, as Ollama's two engine generations keep it.
 * Pure: no I/O, no clock (a counter orders uses); test/unit/test_sim_core.c runs it by tables.
 *
 * KV_RUNNER, KV_MULTIUSER: Ollama <= v0.24's Go runners (runner/ollamarunner/cache.go at
 * v0.24.0). Slots = OLLAMA_NUM_PARALLEL. KV_RUNNER is LoadCacheSlot with findLongestCacheSlot:
 * among free slots the longest common prefix, ties to the lowest index. KV_MULTIUSER
 * (OLLAMA_MULTIUSER_CACHE=1) is findBestCacheSlot: a slot whose whole content prefixes the
 * prompt (busy slots count for the search, not for the pick), else the least recently used
 * free slot, which first gets a copy of the longest prefix found in any slot.
 *
 * KV_SERVER: Ollama >= v0.30's llama-server per model (llama.cpp tools/server/server-context.cpp
 * get_available_slot and server-task.cpp server_prompt_cache). Among idle non-empty slots the
 * highest lcp/prompt above 0.1 (ties to the lowest index); else the least recently used idle
 * slot (ties to the highest index). When the pick came by LRU or keeps < 50 % of the slot, the
 * slot is saved to the host-RAM prompt cache and the cached state that keeps more of itself
 * (>= 25 %) and matches more of the prompt than the slot is restored into it. After a task
 * starts every other idle slot is saved there too (cache_idle_slots, without clearing: Ollama
 * starts llama-server without --kv-unified). Saving skips a prompt already held whole and
 * drops states that are prefixes of it; over the budget the oldest states go, one stays.
 *
 * Every mode: when the whole prompt is cached, one token is evaluated again (for the logits);
 * the slot then holds the prompt, and after the generation the answer's tokens too.
 */
#ifndef ORION_SIM_CACHE_H
#define ORION_SIM_CACHE_H

#include "tok.h"

#include <stdbool.h>

#define KV_MAX_SLOTS 64

enum kv_mode { KV_NONE, KV_RUNNER, KV_MULTIUSER, KV_SERVER };

struct kv_slot {
    struct tokv tok;
    bool busy;
    long long used; /* the cache's clock at the last use, 0: never */
};

struct kv_saved {
    struct kv_saved *next;
    struct tokv tok;
};

struct kv_cache {
    enum kv_mode mode;
    int nslots;
    struct kv_slot slot[KV_MAX_SLOTS];
    struct kv_saved *saved;               /* KV_SERVER's host-RAM prompt cache, oldest first */
    long long saved_tokens, limit_tokens; /* limit 0: no host cache */
    long long clock;
};

/* limit_tokens: the host cache's budget in tokens (--cache-ram-mib / KV bytes per token) */
void kv_init(struct kv_cache *kv, enum kv_mode mode, int nslots, long long limit_tokens);
void kv_clear(struct kv_cache *kv); /* the runner stopped: every slot and saved state goes */
/* Takes a free slot for the prompt p[0..n): its index, with *cached = the tokens that need no
 * evaluation (< n when n > 0). -1 when no slot is free. Out of memory only loses reuse. */
int kv_acquire(struct kv_cache *kv, const uint32_t *p, int n, int *cached);
/* The generation is over: the slot also holds ans[0..nans) and is free again. */
void kv_release(struct kv_cache *kv, int slot, const uint32_t *ans, int nans);
int kv_lcp(const uint32_t *a, int na, const uint32_t *b, int nb);
int kv_saved_count(const struct kv_cache *kv);

#endif
