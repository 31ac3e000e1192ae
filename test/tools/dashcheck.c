/* SPDX-License-Identifier: MIT */
/*
 * dashcheck: does a Grafana dashboard ask only for what a router exports? Reads the dashboard
 * JSON (contrib/grafana/orion.json) and a capture of the router's /metrics, takes every query
 * (each panel's targets[].expr, rows' nested panels, templating queries) and checks each
 * metric name in it (an identifier starting "orion_") against the capture's "# TYPE" lines
 * (NAME_bucket, _sum, _count are a histogram's), and each label it selects on, groups by or
 * asks label_values() for, against the labels of that metric's samples ("le" for a
 * histogram's buckets). Prints one line per finding, for test/integ/t_grafana.sh:
 *   panel ID TYPE TITLE       every panel (rows included), in order
 *   expr ID<TAB>QUERY         every query, with its panel's id (0: templating)
 *   metric NAME ok|missing    label NAME ok|missing   (once per query that uses it)
 * Exit: 0 all present, 1 something missing, 2 unreadable input (the reason on stderr).
 * Usage: dashcheck DASHBOARD.json METRICS.txt
 */
#include "cJSON.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 128

static char *metrics; /* the /metrics capture, NUL-terminated */
static int missing;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)n + 1)) != NULL) {
        if (fread(p, 1, (size_t)n, f) != (size_t)n) {
            free(p);
            p = NULL;
        } else {
            p[n] = '\0';
        }
    }
    fclose(f);
    return p;
}

/* A line of the capture starting with `prefix`, or NULL. */
static const char *line_with(const char *prefix)
{
    size_t n = strlen(prefix);

    for (const char *l = metrics; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, n) == 0)
            return l;
    return NULL;
}

/* The exported name a query's metric stands for: itself, or a histogram's base name. */
static bool exported(const char *name, char *base, size_t len)
{
    static const char *const suffix[] = {"_bucket", "_sum", "_count"};
    char want[NAME_MAX_LEN + 32];

    snprintf(base, len, "%s", name);
    snprintf(want, sizeof(want), "# TYPE %s ", name);
    if (line_with(want))
        return true;
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(name), s = strlen(suffix[i]);

        if (n > s && strcmp(name + n - s, suffix[i]) == 0) {
            snprintf(base, len, "%.*s", (int)(n - s), name);
            snprintf(want, sizeof(want), "# TYPE %s histogram", base);
            if (line_with(want))
                return true;
        }
    }
    return false;
}

/* A sample of `metric` (or of its histogram's series) carries the label. */
static bool has_label(const char *metric, const char *label)
{
    char want[NAME_MAX_LEN + 8], lab[NAME_MAX_LEN + 4];

    snprintf(lab, sizeof(lab), "%s=\"", label);
    for (const char *l = metrics; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *end = strchr(l, '\n'), *brace;

        snprintf(want, sizeof(want), "%s", metric);
        if (*l == '#' || strncmp(l, want, strlen(want)) != 0)
            continue;
        brace = strchr(l, '{');
        if (!brace || (end && brace > end))
            continue;
        for (const char *p = brace; p && (!end || p < end) && (p = strstr(p, lab)); p++)
            if ((p[-1] == '{' || p[-1] == ',') && (!end || p < end))
                return true;
    }
    return false;
}

static bool ident_start(int c)
{
    return isalpha(c) || c == '_' || c == ':';
}

static bool ident_char(int c)
{
    return isalnum(c) || c == '_' || c == ':';
}

/* The next identifier outside quotes from *p into out; its kind: 'l' a label (inside
 * braces before an operator, in by/without (...), or label_values' second argument),
 * 'i' anything else, 0 at the end. */
static int next_ident(const char **p, char *out, size_t len, int *depth_brace, bool *in_by)
{
    const char *s = *p;

    for (; *s; s++) {
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++)
                if (*s == '\\' && s[1])
                    s++;
            if (!*s)
                break;
            continue;
        }
        if (*s == '{')
            (*depth_brace)++;
        else if (*s == '}' && *depth_brace > 0)
            (*depth_brace)--;
        else if (*s == ')')
            *in_by = false;
        if (ident_start((unsigned char)*s) && (s == *p || !ident_char((unsigned char)s[-1]))) {
            size_t n = 0;
            const char *after;

            while (ident_char((unsigned char)s[n]))
                n++;
            snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), s);
            after = s + n;
            while (*after == ' ')
                after++;
            *p = s + n;
            if ((strcmp(out, "by") == 0 || strcmp(out, "without") == 0) && *after == '(') {
                *in_by = true;
                return 'i';
            }
            if (*in_by || (*depth_brace > 0 && (*after == '=' || *after == '!')))
                return 'l';
            return 'i';
        }
    }
    *p = s;
    return 0;
}

/* label_values(METRIC, LABEL): the label named last. */
static void check_label_values(const char *q)
{
    const char *lv = strstr(q, "label_values(");
    char m[NAME_MAX_LEN], l[NAME_MAX_LEN], base[NAME_MAX_LEN];

    if (!lv || sscanf(lv, "label_values(%127[a-zA-Z0-9_:], %127[a-zA-Z0-9_])", m, l) != 2)
        return;
    exported(m, base, sizeof(base));
    printf("label %s %s\n", l, has_label(base, l) ? "ok" : "missing");
    missing += !has_label(base, l);
}

static void check_query(int panel, const char *q)
{
    char id[NAME_MAX_LEN], base[NAME_MAX_LEN], metrics_used[8][NAME_MAX_LEN];
    size_t nused = 0;
    const char *p = q;
    int kind, depth = 0;
    bool in_by = false;

    printf("expr %d\t%s\n", panel, q);
    while ((kind = next_ident(&p, id, sizeof(id), &depth, &in_by)) != 0) {
        if (kind != 'i' || strncmp(id, "orion_", 6) != 0)
            continue;
        if (exported(id, base, sizeof(base))) {
            if (nused < 8)
                snprintf(metrics_used[nused++], NAME_MAX_LEN, "%s", base);
            printf("metric %s ok\n", id);
        } else {
            printf("metric %s missing\n", id);
            missing++;
        }
    }
    /* labels: a second pass, now that the query's metrics are known */
    p = q;
    depth = 0;
    in_by = false;
    while ((kind = next_ident(&p, id, sizeof(id), &depth, &in_by)) != 0) {
        bool found = strcmp(id, "le") == 0;

        if (kind != 'l')
            continue;
        for (size_t i = 0; i < nused && !found; i++)
            found = has_label(metrics_used[i], id);
        printf("label %s %s\n", id, found ? "ok" : "missing");
        missing += !found;
    }
    check_label_values(q);
}

static void walk_panels(const cJSON *panels)
{
    const cJSON *pn;

    cJSON_ArrayForEach(pn, panels)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(pn, "id");
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(pn, "title");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(pn, "type");
        const cJSON *t;
        int pid = cJSON_IsNumber(id) ? id->valueint : -1;

        printf("panel %d %s %s\n", pid, cJSON_IsString(type) ? type->valuestring : "?",
               cJSON_IsString(title) ? title->valuestring : "(no title)");
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(pn, "targets"))
        {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(t, "expr");

            if (cJSON_IsString(e))
                check_query(pid, e->valuestring);
        }
        walk_panels(cJSON_GetObjectItemCaseSensitive(pn, "panels"));
    }
}

int main(int argc, char **argv)
{
    char *dash;
    cJSON *j;
    const cJSON *v;

    if (argc != 3) {
        fprintf(stderr, "usage: dashcheck DASHBOARD.json METRICS.txt\n");
        return 2;
    }
    dash = slurp(argv[1]);
    metrics = slurp(argv[2]);
    j = dash ? cJSON_ParseWithLength(dash, strlen(dash)) : NULL;
    if (!j || !metrics) {
        fprintf(stderr, "dashcheck: cannot read %s\n", !j ? argv[1] : argv[2]);
        return 2;
    }
    walk_panels(cJSON_GetObjectItemCaseSensitive(j, "panels"));
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(j, "templating"), "list"))
    {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(v, "query");

        if (cJSON_IsObject(q))
            q = cJSON_GetObjectItemCaseSensitive(q, "query");
        if (cJSON_IsString(q))
            check_query(0, q->valuestring);
    }
    cJSON_Delete(j);
    free(dash);
    free(metrics);
    return missing ? 1 : 0;
}
