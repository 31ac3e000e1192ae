/* SPDX-License-Identifier: MIT */
/*
 * roles: roles of models, task types and the choice of a model for a role chain, as pure
 * functions (roles.h has the tables and the order). The default table carries the seed's
 * model -> role table ("inference-service architecture", Model Role Mapping) over to Ollama's
 * family names, and adds Pi-sized families the seed does not list.
 */
#include "orion/roles.h"
#include "orion/buf.h"
#include "orion/route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[ROLE_NROLES] = {"primary", "fast", "coder", "thinker", "longctx"};

const char *role_name(unsigned bit)
{
    for (int i = 0; i < ROLE_NROLES; i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}

unsigned role_parse(const char *s, size_t n)
{
    for (int i = 0; i < ROLE_NROLES; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], s, n))
            return 1u << i;
    return 0;
}

/* --- names ---------------------------------------------------------------------------------- */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* family and tag of a model: the normalised key's last path component split at ':'. */
static void family_tag(const char *model, char *fam, size_t fn, char *tag, size_t tn)
{
    char key[ORION_MODEL_MAX + 1];
    const char *last, *colon;
    size_t n;

    *fam = *tag = '\0';
    if (route_model_norm(model, key, sizeof(key)) < 0)
        return;
    last = strrchr(key, '/');
    last = last ? last + 1 : key;
    colon = strchr(last, ':');
    n = colon ? (size_t)(colon - last) : strlen(last);
    if (n >= fn)
        n = fn - 1;
    memcpy(fam, last, n);
    fam[n] = '\0';
    if (colon) {
        n = strlen(colon + 1) < tn ? strlen(colon + 1) : tn - 1;
        memcpy(tag, colon + 1, n);
        tag[n] = '\0';
    }
}

/* letters and digits only, lower case */
static void loose(const char *s, size_t n, char *out, size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < n && s[i] && k + 1 < max; i++) {
        int c = lower((unsigned char)s[i]);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[k++] = (char)c;
    }
    out[k] = '\0';
}

int role_key_match(const char *key, const char *model)
{
    char mk[ORION_MODEL_MAX + 1], a[ORION_MODEL_MAX + 1], b[ORION_MODEL_MAX + 1];
    char fam[ORION_MODEL_MAX + 1], tag[ORION_MODEL_MAX + 1];
    size_t n;

    if (!key || !*key || !model || !*model)
        return 0;
    if (route_model_eq(key, model))
        return 3;
    if (route_model_norm(model, mk, sizeof(mk)) < 0)
        return 0;
    n = strlen(mk);
    if (n > 7 && !strcmp(mk + n - 7, ":latest"))
        n -= 7;
    loose(key, strlen(key), a, sizeof(a));
    loose(mk, n, b, sizeof(b));
    if (*a && !strcmp(a, b))
        return 2;
    family_tag(model, fam, sizeof(fam), tag, sizeof(tag));
    loose(fam, strlen(fam), b, sizeof(b));
    return *a && !strcmp(a, b) ? 1 : 0;
}

/* --- the default table ---------------------------------------------------------------------- */

#define P ROLE_PRIMARY
#define F ROLE_FAST
#define C ROLE_CODER
#define T ROLE_THINKER
#define L ROLE_LONGCTX

static const struct {
    const char *family, *tag; /* tag: a substring the tag must hold (NULL: any) */
    unsigned roles;
} defaults[] = {
    /* the seed's table, by family */
    {"llama3.2", NULL, F | P},         {"qwen2.5-coder", NULL, C | P},
    {"qwen2.5", NULL, C | P},          {"qwen3-coder", NULL, C | P | T},
    {"qwen3", NULL, C | P},            {"deepseek-r1", NULL, T | P},
    {"granite-code", "128k", C | L},   {"granite-code", "20b", C | T},
    {"granite-code", NULL, C},         {"phi4-mini", NULL, F | P},
    {"phi4-reasoning", NULL, T},       {"phi4", NULL, P | T | C},
    {"phi3", "128k", L | T},           {"phi3", NULL, F | P},
    {"gpt-oss", NULL, P | T},
    /* other coders and thinkers */
    {"codellama", NULL, C},            {"codegemma", NULL, C},
    {"deepseek-coder", NULL, C},       {"deepseek-coder-v2", NULL, C},
    {"starcoder2", NULL, C},           {"codestral", NULL, C | P},
    {"devstral", NULL, C},             {"qwq", NULL, T},
    {"magistral", NULL, T},            {"openthinker", NULL, T},
    {"smollm2", NULL, F},              {"tinyllama", NULL, F},
    {"moondream", NULL, F},
    /* embedding models: no role, never chosen for a generation */
    {"nomic-embed-text", NULL, 0},     {"mxbai-embed-large", NULL, 0},
    {"all-minilm", NULL, 0},           {"bge-m3", NULL, 0},
    {"snowflake-arctic-embed", NULL, 0}, {"snowflake-arctic-embed2", NULL, 0},
};

#undef P
#undef F
#undef C
#undef T
#undef L

/* Is the tag's size (the number before 'b' or 'm' at its start) at most 3 billion? */
static bool small_tag(const char *tag)
{
    char *end;
    double v = strtod(tag, &end);

    if (end == tag || v <= 0)
        return false;
    if (*end == 'm' || *end == 'M')
        return true;
    return (*end == 'b' || *end == 'B') && v <= 3.0;
}

unsigned role_defaults(const char *model)
{
    char fam[ORION_MODEL_MAX + 1], tag[ORION_MODEL_MAX + 1];

    family_tag(model, fam, sizeof(fam), tag, sizeof(tag));
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
        if (strcmp(defaults[i].family, fam) || (defaults[i].tag && !strstr(tag, defaults[i].tag)))
            continue;
        if (!defaults[i].roles)
            return 0;
        return defaults[i].roles | (small_tag(tag) ? ROLE_FAST : 0);
    }
    return ROLE_PRIMARY | (small_tag(tag) ? ROLE_FAST : 0);
}

/* --- tables --------------------------------------------------------------------------------- */

void role_map_init(struct role_map *m) { memset(m, 0, sizeof(*m)); }

void role_map_release(struct role_map *m)
{
    orion_free(m->e);
    role_map_init(m);
}

int role_map_set(struct role_map *m, const char *key, unsigned roles)
{
    size_t n = key ? strlen(key) : 0;

    if (!n || n > ORION_MODEL_MAX) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->e[i].key, key)) {
            m->e[i].roles = roles;
            return 0;
        }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 16;
        struct role_map_entry *e = orion_realloc(m->e, nc * sizeof(*e));
        if (!e)
            return -1;
        m->e = e;
        m->cap = nc;
    }
    memcpy(m->e[m->n].key, key, n + 1);
    m->e[m->n++].roles = roles;
    return 0;
}

bool role_map_lookup(const struct role_map *m, const char *model, unsigned *roles)
{
    int best = 0;

    for (size_t i = 0; m && i < m->n; i++) {
        int s = role_key_match(m->e[i].key, model);
        if (s > best) {
            best = s;
            *roles = m->e[i].roles;
        }
    }
    return best > 0;
}

unsigned role_resolve(const struct role_map *const *maps, size_t nmaps, const char *model)
{
    unsigned r;

    for (size_t i = 0; i < nmaps; i++)
        if (role_map_lookup(maps[i], model, &r))
            return r;
    return role_defaults(model);
}

/* --- requests ------------------------------------------------------------------------------- */

static bool starts_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (lower((unsigned char)*s) != *prefix)
            return false;
    return true;
}

void role_spec_parse(const char *model, struct role_spec *out)
{
    const char *m = model ? model : "";

    if (starts_ci(m, "inference:"))
        m += 10;
    else if (starts_ci(m, "local:"))
        m += 6;
    out->model = m;
    out->role = role_parse(m, strlen(m));
    out->kind = !*m || (starts_ci(m, "auto") && !m[4]) ? ROLE_SPEC_AUTO
                : out->role                            ? ROLE_SPEC_ROLE
                                                       : ROLE_SPEC_MODEL;
}

static const struct {
    const char *const *tasks;
    unsigned first;
} task_table[] = {
    {(const char *const[]){"code", "debug", "refactor", "review", "test", NULL}, ROLE_CODER},
    {(const char *const[]){"analyze", "reason", "plan", "compare", "debate", NULL}, ROLE_THINKER},
    {(const char *const[]){"simple", "quick", "classify", "extract", NULL}, ROLE_FAST},
    {(const char *const[]){"document", "summarize_long", "rag", NULL}, ROLE_LONGCTX},
    {(const char *const[]){"general", "summarize", "explain", "chat", NULL}, ROLE_PRIMARY},
};

static unsigned task_role(const char *task_type)
{
    for (size_t i = 0; task_type && i < sizeof(task_table) / sizeof(task_table[0]); i++)
        for (const char *const *t = task_table[i].tasks; *t; t++)
            if (!strcmp(*t, task_type))
                return task_table[i].first;
    return 0;
}

bool role_task_known(const char *task_type) { return task_role(task_type) != 0; }

size_t role_chain_role(unsigned role, unsigned chain[ROLE_CHAIN_MAX])
{
    size_t n = 0;

    if (role && role != ROLE_PRIMARY)
        chain[n++] = role;
    if (role == ROLE_LONGCTX)
        chain[n++] = ROLE_THINKER;
    chain[n++] = ROLE_PRIMARY;
    chain[n++] = ROLE_ANY;
    return n;
}

size_t role_chain_task(const char *task_type, unsigned chain[ROLE_CHAIN_MAX])
{
    return role_chain_role(task_role(task_type), chain);
}

/* --- the pick ------------------------------------------------------------------------------- */

static int rank(const struct role_cand *c)
{
    return c->resident && c->free_slot ? 0 : c->resident ? 1 : c->in_preset ? 2 : 3;
}

/* < 0 when a is the better choice */
static int cand_cmp(const struct role_cand *a, const struct role_cand *b)
{
    int ra = rank(a), rb = rank(b);

    if (ra != rb)
        return ra - rb;
    if (ra <= 1) { /* lower load: a.used/a.cap < b.used/b.cap */
        unsigned long long x = (unsigned long long)a->used * (b->cap ? b->cap : 1);
        unsigned long long y = (unsigned long long)b->used * (a->cap ? a->cap : 1);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return strcmp(a->model, b->model);
}

int role_pick(const struct role_cand *c, size_t n, const unsigned *chain, size_t nchain,
              struct role_choice *out)
{
    out->cand = -1;
    out->role = ROLE_ANY;
    out->too_big = false;
    out->budget = 0;
    for (size_t s = 0; s < nchain; s++) {
        int best = -1;

        for (size_t i = 0; i < n; i++) {
            if (!c[i].completion || (chain[s] != ROLE_ANY && !(c[i].roles & chain[s])))
                continue;
            if (!c[i].fits) {
                out->too_big = true;
                if (c[i].budget > out->budget)
                    out->budget = c[i].budget;
                continue;
            }
            if (best < 0 || cand_cmp(&c[i], &c[best]) < 0)
                best = (int)i;
        }
        if (best >= 0) {
            out->cand = best;
            out->role = chain[s];
            out->too_big = false;
            out->budget = 0;
            return best;
        }
    }
    return -1;
}
