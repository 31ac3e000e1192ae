/* SPDX-License-Identifier: MIT */
/*
 * router_orch_relay: a streamed run's final step streams its tokens to the caller as they come.
 * The step known to give the answer once it answers (orch_last: a reconciler, a synthesizer,
 * the last stage, critique's last reviser) is sent with stream set, so its worker writes its
 * chunks to P:orch:{id} as to any callback; the router's reader of that stream passes each on
 * to the caller's callback as a chunk of the caller's request id, with the run's own seq, and
 * deletes it from P:orch:{id} (which so keeps only the steps' answers a resumed run reads).
 *
 * Invariants:
 * - One try's chunks reach the caller: the first try a chunk is relayed from. A try that then
 *   does not give the answer (fails, is retried or quarantined) breaks the relay: its progress
 *   entry (status retrying or failed) follows its tokens, no later try is relayed, and the
 *   answer's text is relayed whole as one chunk just before the answer. The caller's stream
 *   thus always ends with the answer's text; only after a broken relay is it preceded by void
 *   tokens.
 * - Chunks of steps that are not the relayed try, or arrive after the run is over, are dropped.
 */
#include "router_orch.h"

#include "orion/entry.h"

#include <string.h>

static bool relays(const struct orun *u)
{
    return u->req.stream && u->req.callback.p;
}

bool router_orch_streams(const struct orun *u, size_t i)
{
    return relays(u) && orch_last(&u->o, i);
}

static void relay(struct router *r, struct orun *u, const char *d, size_t n, const char *t,
                  size_t tn)
{
    struct entry_argv a;

    entry_chunk(&a, u->req.callback, entry_cstr(u->id), ++u->seq, d, n, t, tn);
    if (!a.full)
        redis_cmdv(r->cmd, 0, NULL, NULL, a.argc, a.argv, a.len);
}

void router_orch_chunk(struct router *r, struct orun *u, size_t i, const struct entry_answer *a)
{
    const struct orch_step *s = &u->o.step[i];

    if (!router_orch_streams(u, i) || s->state != ORCH_S_RUN || u->relay_broken ||
        (!a->delta.n && !a->thinking.n))
        return;
    if (u->relay_step < 0) {
        u->relay_step = (int)i;
        u->relay_try = s->tries;
    }
    if (u->relay_step == (int)i && u->relay_try == s->tries)
        relay(r, u, a->delta.p, a->delta.n, a->thinking.p, a->thinking.n);
}

void router_orch_relay_settled(struct orun *u, size_t i)
{
    if (u->relay_step == (int)i && u->o.step[i].state != ORCH_S_OK)
        u->relay_broken = true;
}

void router_orch_relay_answer(struct router *r, struct orun *u)
{
    const struct orch_step *s;

    if (!u->seq || u->o.final < 0 || !(s = &u->o.step[u->o.final])->text)
        return;
    if (!u->relay_broken && u->relay_step == u->o.final)
        return;
    relay(r, u, s->text, strlen(s->text), NULL, 0);
}
