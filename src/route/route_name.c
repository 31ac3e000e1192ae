/* SPDX-License-Identifier: MIT */
/*
 * route_name: the names the routing core compares and prints: model names as keys (the rules
 * are in route.h, "Model names"), and the names of the policies and of the kinds of decision.
 */
#include "orion/route.h"

#include <errno.h>
#include <string.h>

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

static const char *skip_ci(const char *p, const char *prefix)
{
    size_t i;

    for (i = 0; prefix[i]; i++)
        if (lower((unsigned char)p[i]) != prefix[i])
            return p;
    return p + i;
}

/* Where the name proper starts once the registry and "library/" are dropped. */
static const char *name_start(const char *in)
{
    const char *q = skip_ci(skip_ci(in, "https://"), "http://");
    const char *p = skip_ci(q, "registry.ollama.ai/");

    return skip_ci(p == q ? in : p, "library/"); /* a scheme goes only with the registry */
}

/* Is name already its own key (route_model_norm would return it unchanged)? One pass over
 * it, no copy: the names of every node's models are checked on every request. The rules of
 * route_model_norm, read backwards: no capital, no registry or "library/" prefix, and a tag
 * (a ':' after the last '/' before any '@', not last before it). */
static bool is_key(const char *name)
{
    const char *q, *at = NULL, *colon = NULL;

    for (q = name; *q; q++) {
        if (*q >= 'A' && *q <= 'Z')
            return false;
        if (at)
            continue;
        if (*q == '@')
            at = q;
        else if (*q == '/')
            colon = NULL;
        else if (*q == ':' && !colon)
            colon = q;
    }
    if (q == name || (size_t)(q - name) > ORION_MODEL_MAX)
        return false;
    if ((*name == 'h' || *name == 'r' || *name == 'l') && name_start(name) != name)
        return false;
    return colon && colon + 1 != (at ? at : q) && (at ? at : q) != name;
}

int route_model_norm(const char *in, char *out, size_t outlen)
{
    const char *p, *end, *last, *colon, *q;
    size_t need, n = 0;

    if (!in || !*in) {
        errno = EINVAL;
        return -1;
    }
    if (strlen(in) > ORION_MODEL_MAX)
        goto too_long;
    if (is_key(in)) {
        n = strlen(in);
        if (n + 1 > outlen)
            goto too_long;
        memcpy(out, in, n + 1);
        return (int)n;
    }
    p = name_start(in);
    end = strchr(p, '@') ? strchr(p, '@') : p + strlen(p);
    if (end == p) {
        errno = EINVAL;
        return -1;
    }
    for (last = p, q = p; q < end; q++)
        if (*q == '/')
            last = q + 1;
    colon = memchr(last, ':', (size_t)(end - last));
    need = strlen(p) + (!colon ? 7 : colon + 1 == end ? 6 : 0);
    if (need > ORION_MODEL_MAX || need + 1 > outlen)
        goto too_long;
    for (q = p; q < end; q++)
        out[n++] = (char)lower((unsigned char)*q);
    if (!colon)
        out[n++] = ':';
    if (!colon || colon + 1 == end) {
        memcpy(out + n, "latest", 6);
        n += 6;
    }
    for (q = end; *q; q++)
        out[n++] = (char)lower((unsigned char)*q);
    out[n] = '\0';
    return (int)n;
too_long:
    errno = ENAMETOOLONG;
    return -1;
}

bool route_model_eq(const char *a, const char *b)
{
    char ka[ORION_MODEL_MAX + 1], kb[ORION_MODEL_MAX + 1];

    if (!a || !b)
        return a == b;
    if (route_model_norm(a, ka, sizeof(ka)) < 0 || route_model_norm(b, kb, sizeof(kb)) < 0)
        return strcmp(a, b) == 0;
    return strcmp(ka, kb) == 0;
}

bool route_has_model(const char *const *names, size_t n, const char *key)
{
    char k[ORION_MODEL_MAX + 1];

    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        if (is_key(names[i])) {
            if (strcmp(names[i], key) == 0)
                return true;
        } else if (route_model_norm(names[i], k, sizeof(k)) >= 0 && strcmp(k, key) == 0) {
            return true;
        }
    }
    return false;
}

static const char *const policy_names[] = {"sticky", "first-fit", "least-conn", "round-robin",
                                           "random"};
static const char *const kind_names[] = {"sticky", "queued-resident", "spill",
                                         "cold",   "wait",            "reject"};

/* "least_conn" (nginx's spelling) is "least-conn": '_' and '-' are the same here. */
static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (*a != *b && !((*a == '_' || *a == '-') && (*b == '_' || *b == '-')))
            return false;
    return *a == *b;
}

int route_policy_parse(const char *name, enum route_policy *out)
{
    for (size_t i = 0; name && i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
        if (same_name(name, policy_names[i])) {
            *out = (enum route_policy)i;
            return 0;
        }
    return -1;
}

const char *route_policy_name(enum route_policy p)
{
    return (unsigned)p < sizeof(policy_names) / sizeof(policy_names[0]) ? policy_names[p] : "?";
}

const char *route_kind_name(enum route_kind k)
{
    return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}
