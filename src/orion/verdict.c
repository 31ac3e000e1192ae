/* SPDX-License-Identifier: MIT */
/* verdict: the critic's structured output, its schema and the reading of its score
 * (verdict.h states the cases). */
#include "orion/verdict.h"

#include "cJSON.h"

#include <stdlib.h>
#include <string.h>

const char verdict_schema[] =
    "{\"type\":\"object\",\"properties\":{\"score\":{\"type\":\"number\",\"minimum\":0,"
    "\"maximum\":1},\"issues\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
    "\"required\":[\"score\",\"issues\"]}";

#define PREFIX "{\"score\":"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

/* The number after the prefix of a text cut short: it must be followed by more text (a number
 * at the very end may itself be cut). -1 when there is none. */
static double cut_short(const char *s, size_t n)
{
    char num[32];
    size_t k;
    char *end;
    double v;

    if (n <= PREFIX_LEN || memcmp(s, PREFIX, PREFIX_LEN))
        return -1;
    for (k = 0; PREFIX_LEN + k < n && k < sizeof(num) - 1 &&
                strchr("0123456789.eE+-", s[PREFIX_LEN + k]) && s[PREFIX_LEN + k];
         k++)
        num[k] = s[PREFIX_LEN + k];
    if (!k || PREFIX_LEN + k >= n)
        return -1;
    num[k] = '\0';
    v = strtod(num, &end);
    return *end ? -1 : v;
}

double verdict_score(const char *s, size_t n)
{
    cJSON *j = cJSON_ParseWithLength(s, n);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(j, "score");
    double v = j ? (cJSON_IsObject(j) && cJSON_IsNumber(sc) ? sc->valuedouble : -1)
                 : cut_short(s, n);

    cJSON_Delete(j);
    if (v != v || v < 0)
        return -1;
    return v > 1 ? 1 : v;
}
