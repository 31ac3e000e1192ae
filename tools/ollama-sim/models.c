/* SPDX-License-Identifier: MIT */
/*
 * models: the model table. An entry is installed (in /api/tags, usable), pullable (in the
 * simulated registry), or both. Library models carry published metadata; any other name gets
 * values derived from the name. A spec appends "+key=value" settings to a name:
 *   caps=completion/tools/thinking/insert/vision/embedding, ctx=N (training context,
 *   model_info <arch>.context_length), num_ctx=N (the Modelfile's PARAMETER), size=BYTES (disk,
 *   /api/tags), ram=BYTES (/api/ps), dim=N (embedding_length), family=S, params=S
 *   (parameter_size), quant=S, prefill=TOKENS_PER_S.
 * Also: model names as Ollama's types/model/name.go accepts them, the --version-string
 * generation, prefill rates.
 */
#include "sim.h"

#include "orion/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct meta {
    const char *name, *digest, *family, *psize, *quant;
    unsigned caps;
    long long disk, ram, modified_ms, params, kv_bytes;
    long ctx, embed;
    int blocks, heads, heads_kv, file_type;
    double prefill;
    long num_ctx;
};

/* Sizes, digests, details: ollama-protocol.md §5.2 and the public /api/tags captures named in
 * docs/OLLAMA-SIM.md (gemma3:4b, nomic-embed-text). ram = /api/ps size at context 4096
 * (§5.3; gemma3:4b, nomic-embed-text: estimates). Shapes (context, embedding length, layers,
 * heads) are the models' published configurations; kv_bytes = 2 x layers x KV heads x head
 * dim x 2 (f16), conversation-affinity.md §4. prefill: Pi 5 pp512 (conversation-affinity.md
 * §4, [E]); qwen2.5:0.5b, gemma3:4b and nomic-embed-text are estimates. */
static const struct meta known[] = {
    {"llama3.2:3b", "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72", "llama",
     "3.2B", "Q4_K_M", CAP_COMPLETION | CAP_TOOLS, 2019393189LL, 3341983744LL, 1754900000000LL,
     3212749888LL, 114688, 131072, 3072, 28, 24, 8, 15, 26.7, 0},
    {"llama3.2:1b", "baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878", "llama",
     "1.2B", "Q8_0", CAP_COMPLETION | CAP_TOOLS, 1321098329LL, 1514584145LL, 1754123499913LL,
     1235814432LL, 32768, 131072, 2048, 16, 32, 8, 7, 72.9, 0},
    {"gemma3:1b", "8648f39daa8fbf5b18c7b4e6a8fb4990c692751d49917417b8842ca5758e7ffc", "gemma3",
     "999.89M", "Q4_K_M", CAP_COMPLETION, 815319791LL, 1393800000LL, 1755457484857LL, 999885952LL,
     26624, 32768, 1152, 26, 4, 1, 15, 60.2, 0},
    {"qwen2.5:0.5b", "a8b0c51577010a279d933d14c2a8ab4b268079d44c5c8830c0a93900f1827c67", "qwen2",
     "494.03M", "Q4_K_M", CAP_COMPLETION | CAP_TOOLS, 397821319LL, 859832320LL, 1755015070408LL,
     494032768LL, 12288, 32768, 896, 24, 14, 2, 15, 140, 0},
    {"gemma3:4b", "a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a", "gemma3",
     "4.3B", "Q4_K_M", CAP_COMPLETION | CAP_VISION, 3338801804LL, 4006562164LL, 1744808698937LL,
     4299915632LL, 139264, 131072, 2560, 34, 8, 4, 15, 20, 0},
    {"nomic-embed-text:latest", "0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f",
     "nomic-bert", "137M", "F16", CAP_EMBEDDING, 274302450LL, 312000000LL, 1746680801863LL,
     136727040LL, 36864, 2048, 768, 12, 12, 12, 1, 400, 8192},
};
#define NKNOWN (sizeof known / sizeof known[0])

static uint32_t fnv(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static void set_known(struct sim_model *m, const struct meta *k)
{
    snprintf(m->digest, sizeof m->digest, "%s", k->digest);
    snprintf(m->family, sizeof m->family, "%s", k->family);
    snprintf(m->psize, sizeof m->psize, "%s", k->psize);
    snprintf(m->quant, sizeof m->quant, "%s", k->quant);
    m->caps = k->caps;
    m->disk_size = k->disk, m->ram_size = k->ram, m->modified_ms = k->modified_ms;
    m->params = k->params, m->kv_bytes = k->kv_bytes;
    m->ctx_train = k->ctx, m->embed_len = k->embed, m->num_ctx = k->num_ctx;
    m->blocks = k->blocks, m->heads = k->heads, m->heads_kv = k->heads_kv;
    m->file_type = k->file_type, m->pi_prefill = k->prefill;
}

static void set_derived(struct sim_model *m)
{
    uint32_t h = fnv(m->name);
    int i;

    for (i = 0; i < 64; i += 8) /* a made-up model: everything derived from its name */
        snprintf(m->digest + i, 9, "%08x", (unsigned)(h * (2654435761u + (unsigned)i)));
    snprintf(m->family, sizeof m->family, "llama");
    snprintf(m->psize, sizeof m->psize, "1.0B");
    snprintf(m->quant, sizeof m->quant, "Q4_K_M");
    m->caps = CAP_COMPLETION;
    m->disk_size = 500000000LL + (long long)(h % 1000000000u);
    m->ram_size = m->disk_size + m->disk_size / 7;
    m->modified_ms = 1754000000000LL + (long long)(h % 1000000u) * 1000;
    m->params = 1000000000LL, m->kv_bytes = 32768;
    m->ctx_train = 131072, m->embed_len = 2048, m->num_ctx = 0;
    m->blocks = 16, m->heads = 32, m->heads_kv = 8, m->file_type = 15, m->pi_prefill = 72.9;
}

static int set_caps(struct sim_model *m, const char *v)
{
    static const char *const names[] = {"completion", "embedding", "tools",
                                        "thinking",   "insert",    "vision"};
    unsigned caps = 0;

    while (*v) {
        size_t len = strcspn(v, "/"), i;

        for (i = 0; i < 6; i++)
            if (strlen(names[i]) == len && memcmp(names[i], v, len) == 0)
                break;
        if (i == 6)
            return -1;
        caps |= 1u << i;
        v += len + (v[len] == '/');
    }
    m->caps = caps;
    return 0;
}

static int num(const char *v, long long min, long long max, long long *out)
{
    char *end;
    long long x = strtoll(v, &end, 10);

    if (!*v || *end || x < min || x > max)
        return -1;
    *out = x;
    return 0;
}

/* one "key=value" of a spec; -1 when it is not one */
static int set_key(struct sim_model *m, const char *kv)
{
    const char *eq = strchr(kv, '=');
    const char *v = eq ? eq + 1 : "";
    size_t kl = eq ? (size_t)(eq - kv) : 0;
    long long x;
    double d;

#define KEY(k) (kl == strlen(k) && memcmp(kv, k, kl) == 0)
    if (KEY("caps"))
        return set_caps(m, v);
    if (KEY("family") || KEY("params") || KEY("quant")) {
        char *dst = KEY("family") ? m->family : KEY("params") ? m->psize : m->quant;
        size_t cap = KEY("family") ? sizeof m->family : sizeof m->psize;

        return *v && strlen(v) < cap ? (snprintf(dst, cap, "%s", v), 0) : -1;
    }
    if (KEY("prefill"))
        return conf_parse_double(v, 0.001, 1e9, &d) < 0 ? -1 : (m->prefill_tps = d, 0);
    if (num(v, 0, 1LL << 50, &x) < 0)
        return -1;
    if (KEY("ctx") && x > 0)
        m->ctx_train = (long)x;
    else if (KEY("num_ctx"))
        m->num_ctx = (long)x;
    else if (KEY("size") && x > 0)
        m->disk_size = x, m->ram_size = x + x / 7;
    else if (KEY("ram") && x > 0)
        m->ram_size = x;
    else if (KEY("dim") && x > 0 && x <= 65536)
        m->embed_len = (long)x;
    else
        return -1;
#undef KEY
    return 0;
}

static struct sim_model *find(struct sim *s, const char *name, bool any)
{
    char full[ORION_MODEL_MAX + 8];
    const char *slash = strrchr(name, '/');
    int i;

    snprintf(full, sizeof full, "%s:latest", name);
    for (i = 0; i < s->nmodels; i++) {
        struct sim_model *m = &s->models[i];

        if (!m->installed && !(any && m->pullable))
            continue;
        if (strcmp(m->name, name) == 0 ||
            (!strchr(slash ? slash : name, ':') && strcmp(m->name, full) == 0))
            return m;
    }
    return NULL;
}

struct sim_model *sim_find_model(struct sim *s, const char *name)
{
    return find(s, name, false);
}

struct sim_model *sim_find_any(struct sim *s, const char *name)
{
    return find(s, name, true);
}

/* the entry of name (tag "latest" when it has none, as Ollama names models), made if new */
static struct sim_model *entry(struct sim *s, const char *given)
{
    const char *slash = strrchr(given, '/');
    char name[ORION_MODEL_MAX + 8];
    struct sim_model *m;
    size_t i;
    int k;

    snprintf(name, sizeof name, "%s%s", given, strchr(slash ? slash : given, ':') ? "" : ":latest");
    for (k = 0; k < s->nmodels; k++)
        if (strcmp(s->models[k].name, name) == 0)
            return &s->models[k];
    if (s->nmodels >= SIM_MAX_MODELS || strlen(name) >= sizeof m->name || !*name)
        return NULL;
    m = &s->models[s->nmodels++];
    memset(m, 0, sizeof *m);
    m->s = s;
    memcpy(m->name, name, strlen(name) + 1); /* fits: checked above */
    m->load_ms = 3000;
    m->keep_alive_ns = s->default_ka_ns;
    kv_init(&m->kv, KV_NONE, 1, 0);
    for (i = 0; i < NKNOWN; i++)
        if (strcmp(known[i].name, name) == 0)
            break;
    if (i < NKNOWN)
        set_known(m, &known[i]);
    else
        set_derived(m);
    return m;
}

int sim_add_models(struct sim *s, const char *list, bool installed, char *err, size_t errlen)
{
    const char *p = list;

    while (*p) {
        size_t len = strcspn(p, ",");
        char spec[ORION_MODEL_MAX + 256], *plus, *kv;
        struct sim_model *m;

        snprintf(spec, sizeof spec, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        if (!*spec)
            continue;
        if ((plus = strchr(spec, '+')))
            *plus++ = '\0';
        if (!sim_name_valid(spec) || !(m = entry(s, spec))) {
            orion_errf(err, errlen, "cannot add \"%s\" (a valid name, at most %d models)", spec,
                       SIM_MAX_MODELS);
            return -1;
        }
        for (kv = plus; kv && *kv; kv += strcspn(kv, "+") + (kv[strcspn(kv, "+")] == '+')) {
            char one[256];

            snprintf(one, sizeof one, "%.*s", (int)strcspn(kv, "+"), kv);
            if (set_key(m, one) < 0) {
                orion_errf(err, errlen,
                           "%s: \"%s\" is not a setting (caps, ctx, num_ctx, size, ram, dim, "
                           "family, params, quant, prefill)",
                           spec, one);
                return -1;
            }
        }
        m->raw_legacy = !(m->caps & CAP_COMPLETION) && strcmp(m->family, "nomic-bert") == 0;
        if (installed)
            m->installed = true;
        else
            m->pullable = true;
    }
    return 0;
}

struct sim_model *sim_model_copy(struct sim *s, const struct sim_model *src, const char *name)
{
    struct sim_model *m = entry(s, name);
    struct sim_model keep;

    if (!m)
        return NULL;
    if (m == src)
        return m;
    keep = *m;
    *m = *src;
    memcpy(m->name, keep.name, sizeof m->name);
    /* the runtime state belongs to the entry, not to the model copied */
    m->state = keep.state, m->active = keep.active, m->wait = keep.wait,
    m->wait_tail = keep.wait_tail;
    m->keep_alive_ns = keep.keep_alive_ns, m->expires_ms = keep.expires_ms;
    m->expire_tmr = keep.expire_tmr, m->evict = keep.evict, m->kv = keep.kv;
    m->loaded_ctx = keep.loaded_ctx, m->parallel = keep.parallel, m->load_ms = keep.load_ms;
    m->pullable = keep.pullable;
    m->installed = true;
    return m;
}

/* types/model/name.go isValidPart: [A-Za-z0-9_] first, then also '-', '.' (not in a
 * namespace) and ':' (only in a host) */
static bool part_ok(const char *p, size_t n, size_t max, const char *extra)
{
    size_t i;

    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++) {
        char c = p[i];
        bool an =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';

        if (!an && (i == 0 || !c || !strchr(extra, c)))
            return false;
    }
    return true;
}

bool sim_name_valid(const char *name)
{
    const char *slash = strrchr(name, '/'), *colon, *model = slash ? slash + 1 : name;
    const char *at = strchr(name, '@');
    size_t end = at ? (size_t)(at - name) : strlen(name), parts = 1;
    const char *p;

    colon = memchr(model, ':', end - (size_t)(model - name));
    if (colon && !part_ok(colon + 1, end - (size_t)(colon + 1 - name), 80, "-."))
        return false;
    if (!part_ok(model, (colon ? (size_t)(colon - model) : end - (size_t)(model - name)), 80, "-."))
        return false;
    for (p = name; p < model; p++)
        parts += *p == '/';
    if (parts > 3)
        return false;
    if (parts >= 2) {
        const char *ns = parts == 3 ? strchr(name, '/') + 1 : name;

        if (!part_ok(ns, (size_t)(slash - ns), 80, "-"))
            return false;
    }
    return parts < 3 || part_ok(name, (size_t)(strchr(name, '/') - name), 350, "-.:");
}

void sim_full_name(const char *name, char *out, size_t n)
{
    const char *slash = strrchr(name, '/'), *model = slash ? slash + 1 : name;
    const char *first = strchr(name, '/');
    const char *tag = strchr(model, ':') ? "" : ":latest";

    if (!slash)
        snprintf(out, n, "registry.ollama.ai/library/%s%s", name, tag);
    else if (first == slash)
        snprintf(out, n, "registry.ollama.ai/%s%s", name, tag);
    else
        snprintf(out, n, "%s%s", name, tag);
}

void sim_caps_json(struct buf *b, unsigned caps)
{
    static const char *const names[] = {"completion", "embedding", "tools",
                                        "thinking",   "insert",    "vision"};
    int i, k = 0;

    for (i = 0; i < 6; i++)
        if (caps & (1u << i))
            buf_printf(b, "%s\"%s\"", k++ ? "," : "", names[i]);
}

double sim_prefill(const struct sim_model *m)
{
    double r =
        m->prefill_tps > 0 ? m->prefill_tps : m->pi_prefill * (double)m->s->tokens_per_s / 10.0;

    return r > 0.001 ? r : 0.001;
}

long sim_req_ctx(const struct sim_model *m, long requested)
{
    long c = requested > 0 ? requested : m->num_ctx > 0 ? m->num_ctx : m->s->num_ctx;

    return c < m->ctx_train ? c : m->ctx_train;
}

/* --prefill-tps: N (every model) or NAME=N,... (N: prompt tokens a second) */
int sim_set_prefill(struct sim *s, const char *spec, char *err, size_t errlen)
{
    const char *p = spec;
    int i;

    while (p && *p) {
        size_t len = strcspn(p, ",");
        char tok[ORION_MODEL_MAX + 32], *eq;
        double v;

        snprintf(tok, sizeof tok, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
        eq = strrchr(tok, '=');
        if (conf_parse_double(eq ? eq + 1 : tok, 0.001, 1e9, &v) < 0) {
            orion_errf(err, errlen, "\"%s\" is neither N nor NAME=N", tok);
            return -1;
        }
        if (eq)
            *eq = '\0';
        for (i = 0; i < s->nmodels; i++)
            if (!eq || strcmp(s->models[i].name, tok) == 0)
                s->models[i].prefill_tps = v;
    }
    return 0;
}

/* the generation (engine) and counter semantics of --version-string */
void sim_set_version(struct sim *s)
{
    unsigned long a = 0, b = 0, c = 0;

    if (sscanf(s->version, "%lu.%lu.%lu", &a, &b, &c) != 3)
        a = 99; /* a source build ("0.0.0" is Ollama's own) or anything else: the newest */
    s->gen = a == 0 && b > 0 && b < 30 ? 24 : 30;
    s->count_uncached = a == 0 && b == 30 && c == 0;
}
