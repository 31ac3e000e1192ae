/* SPDX-License-Identifier: MIT */
/*
 * placement: parse the rules of --placement FILE and answer "may model M run on node N". The
 * grammar is at the top of placement.h. Rules live in fixed arrays, so a parsed set needs no
 * memory of its own and checking a node allocates nothing.
 */
#include "orion/placement.h"
#include "orion/buf.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 16 /* words of one rule: directive, pattern, action and the conditions */


void placement_init(struct placement *p) { p->n = 0; }

static int tolower_ascii(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

static const char *skip_ci(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);

    for (size_t i = 0; i < n; i++)
        if (tolower_ascii((unsigned char)s[i]) != prefix[i])
            return s;
    return s + n;
}

/* Model globs are written like names: lower-case, default registry and namespace dropped. */
static int set_model_glob(struct placement_rule *r, const char *glob, char *err, size_t errlen)
{
    size_t i;

    glob = skip_ci(skip_ci(glob, "registry.ollama.ai/"), "library/");
    if (!*glob || strlen(glob) > ORION_MODEL_MAX) {
        orion_errf(err, errlen, "%s model pattern", *glob ? "too long a" : "empty");
        return -1;
    }
    for (i = 0; glob[i]; i++)
        r->model[i] = (char)tolower_ascii((unsigned char)glob[i]);
    r->model[i] = '\0';
    return 0;
}

static int set_labels(struct placement_rule *r, char *v, char *err, size_t errlen)
{
    char *comma;
    size_t n;

    for (;;) {
        comma = strchr(v, ',');
        n = comma ? (size_t)(comma - v) : strlen(v);
        if (!n) {
            orion_errf(err, errlen, "empty label");
            return -1;
        }
        if (n > ORION_LABEL_MAX) {
            orion_errf(err, errlen, "label too long (max %d bytes)", ORION_LABEL_MAX);
            return -1;
        }
        if (r->nlabels >= ORION_PLACEMENT_MAX_LABELS) {
            orion_errf(err, errlen, "too many labels (max %d)", ORION_PLACEMENT_MAX_LABELS);
            return -1;
        }
        memcpy(r->labels[r->nlabels], v, n);
        r->labels[r->nlabels++][n] = '\0';
        if (!comma)
            return 0;
        v = comma + 1;
    }
}

static int set_number(unsigned long *dst, const char *key, const char *v, char *err,
                      size_t errlen)
{
    unsigned long x = 0;
    const char *q;

    for (q = v; *q >= '0' && *q <= '9' && x <= 100000000UL; q++)
        x = x * 10 + (unsigned long)(*q - '0');
    if (q == v || *q || x == 0 || x > 100000000UL) {
        orion_errf(err, errlen, "bad number '%s' for %s", v, key);
        return -1;
    }
    *dst = x;
    return 0;
}

/* One key=value condition. seen: bit 0 node=, bit 1 labels=, bit 2 min_ram_mb=. */
static int set_cond(struct placement_rule *r, bool node_rule, char *w, unsigned *seen,
                    char *err, size_t errlen)
{
    static const char *const keys[] = {"node", "labels", "min_ram_mb"};
    char *eq = strchr(w, '=');
    size_t k;

    if (!eq) {
        orion_errf(err, errlen, "expected key=value, got '%s'", w);
        return -1;
    }
    *eq = '\0';
    for (k = 0; k < 3 && strcmp(w, keys[k]) != 0; k++)
        ;
    if (k == 3) {
        orion_errf(err, errlen, "unknown key '%s'", w);
        return -1;
    }
    if (*seen & (1u << k)) {
        orion_errf(err, errlen, "duplicate key '%s'", w);
        return -1;
    }
    *seen |= 1u << k;
    if (k == 0 && node_rule) {
        orion_errf(err, errlen, "node= is not allowed in a node rule");
        return -1;
    }
    if (k == 0 && (!eq[1] || strlen(eq + 1) > ORION_NODE_ID_MAX)) {
        orion_errf(err, errlen, "%s node pattern", eq[1] ? "too long a" : "empty");
        return -1;
    }
    if (k == 0)
        snprintf(r->node, sizeof(r->node), "%s", eq + 1);
    if (k == 1)
        return set_labels(r, eq + 1, err, errlen);
    if (k == 2)
        return set_number(&r->min_ram_mb, "min_ram_mb", eq + 1, err, errlen);
    return 0;
}

/* Split a line into words, dropping a comment ('#' at the start of a word). */
static size_t split(char *line, char **w, char *err, size_t errlen)
{
    size_t n = 0;
    char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p || *p == '#')
            return n;
        if (n == MAX_WORDS) {
            orion_errf(err, errlen, "too many words (max %d)", MAX_WORDS);
            return (size_t)-1;
        }
        w[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

static int parse_head(struct placement_rule *r, char **w, size_t n, char *err, size_t errlen)
{
    bool node_rule = strcmp(w[0], "node") == 0;

    if (!node_rule && strcmp(w[0], "model") != 0) {
        orion_errf(err, errlen, "unknown directive '%s' (expected 'model' or 'node')", w[0]);
        return -1;
    }
    if (n < 3) {
        orion_errf(err, errlen, "expected '%s PATTERN %s'", w[0],
             node_rule ? "exclude" : "only|exclude");
        return -1;
    }
    if (strcmp(w[2], "exclude") == 0)
        r->action = PLACEMENT_EXCLUDE;
    else if (!node_rule && strcmp(w[2], "only") == 0)
        r->action = PLACEMENT_ONLY;
    else {
        orion_errf(err, errlen, "unknown action '%s' (expected %s)", w[2],
             node_rule ? "'exclude'" : "'only' or 'exclude'");
        return -1;
    }
    if (!node_rule)
        return set_model_glob(r, w[1], err, errlen);
    if (strlen(w[1]) > ORION_NODE_ID_MAX) {
        orion_errf(err, errlen, "too long a node pattern");
        return -1;
    }
    snprintf(r->node, sizeof(r->node), "%s", w[1]);
    snprintf(r->model, sizeof(r->model), "*");
    return 0;
}

/* Parse one line (NUL-terminated, writable). Adds at most one rule. */
static int parse_line(struct placement *p, char *line, unsigned lineno, char *err,
                      size_t errlen)
{
    char *w[MAX_WORDS];
    size_t n = split(line, w, err, errlen);
    struct placement_rule *r;
    unsigned seen = 0;

    if (n == (size_t)-1)
        return -1;
    if (!n)
        return 0;
    if (p->n >= ORION_PLACEMENT_MAX_RULES) {
        orion_errf(err, errlen, "too many rules (max %d)", ORION_PLACEMENT_MAX_RULES);
        return -1;
    }
    r = &p->rule[p->n];
    memset(r, 0, sizeof(*r));
    r->line = lineno;
    if (parse_head(r, w, n, err, errlen) < 0)
        return -1;
    for (size_t i = 3; i < n; i++)
        if (set_cond(r, strcmp(w[0], "node") == 0, w[i], &seen, err, errlen) < 0)
            return -1;
    if (r->action == PLACEMENT_ONLY && !seen) {
        orion_errf(err, errlen, "'only' needs node=, labels= or min_ram_mb=");
        return -1;
    }
    p->n++;
    return 0;
}

int placement_parse(struct placement *p, const char *name, const char *text, size_t len,
                    char *err, size_t errlen)
{
    char line[ORION_PLACEMENT_MAX_LINE + 1], why[160];
    size_t pos = 0, n;
    const char *nl;
    unsigned lineno = 0;

    placement_init(p);
    while (pos < len) {
        lineno++;
        nl = memchr(text + pos, '\n', len - pos);
        n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (n > ORION_PLACEMENT_MAX_LINE) {
            snprintf(why, sizeof(why), "line too long (max %d bytes)", ORION_PLACEMENT_MAX_LINE);
            goto out_fail;
        }
        if (memchr(text + pos, '\0', n)) {
            snprintf(why, sizeof(why), "NUL byte");
            goto out_fail;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        if (parse_line(p, line, lineno, why, sizeof(why)) < 0)
            goto out_fail;
        pos += n + (nl ? 1 : 0);
    }
    return 0;
out_fail:
    orion_errf(err, errlen, "%s:%u: %s", name ? name : "placement", lineno, why);
    placement_init(p);
    errno = EINVAL;
    return -1;
}

int placement_load(struct placement *p, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *text;
    size_t len;
    int rc = -1;

    placement_init(p);
    if (!f) {
        orion_errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    text = orion_malloc(ORION_PLACEMENT_MAX_FILE + 1);
    if (!text) {
        orion_errf(err, errlen, "%s: %s", path, strerror(errno));
        goto out_close;
    }
    len = fread(text, 1, ORION_PLACEMENT_MAX_FILE + 1, f);
    if (ferror(f))
        orion_errf(err, errlen, "%s: read error", path);
    else if (len > ORION_PLACEMENT_MAX_FILE)
        orion_errf(err, errlen, "%s: too large (max %u bytes)", path, ORION_PLACEMENT_MAX_FILE);
    else
        rc = placement_parse(p, path, text, len, err, errlen);
    orion_free(text);
out_close:
    fclose(f);
    return rc;
}

/* A glob without a tag in its last component also matches "name:latest" as "name". */
static bool model_matches(const char *glob, const char *key)
{
    char base[ORION_MODEL_MAX + 1];
    const char *last = strrchr(glob, '/');
    size_t n = strlen(key);

    if (fnmatch(glob, key, 0) == 0)
        return true;
    if (strchr(last ? last : glob, ':') || n < 7 || strcmp(key + n - 7, ":latest") != 0 ||
        n - 7 > ORION_MODEL_MAX)
        return false;
    memcpy(base, key, n - 7);
    base[n - 7] = '\0';
    return fnmatch(glob, base, 0) == 0;
}

static bool node_meets(const struct placement_rule *r, const char *id,
                       const char *const *labels, size_t nlabels, unsigned long ram_total_mb)
{
    size_t i, j;

    if (r->node[0] && fnmatch(r->node, id ? id : "", 0) != 0)
        return false;
    for (i = 0; i < r->nlabels; i++) {
        for (j = 0; j < nlabels; j++)
            if (labels[j] && strcmp(labels[j], r->labels[i]) == 0)
                break;
        if (j == nlabels)
            return false;
    }
    return !r->min_ram_mb || ram_total_mb >= r->min_ram_mb;
}

bool placement_allows(const struct placement *p, const char *node_id,
                      const char *const *labels, size_t nlabels, unsigned long ram_total_mb,
                      const char *model_key, size_t *rule_index)
{
    const struct placement_rule *r;
    bool meets;

    for (size_t i = 0; p && i < p->n; i++) {
        r = &p->rule[i];
        if (!model_matches(r->model, model_key ? model_key : ""))
            continue;
        meets = node_meets(r, node_id, labels, nlabels, ram_total_mb);
        if (r->action == PLACEMENT_ONLY ? !meets : meets) {
            if (rule_index)
                *rule_index = i;
            return false;
        }
    }
    return true;
}
