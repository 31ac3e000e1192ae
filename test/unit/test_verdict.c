/* SPDX-License-Identifier: MIT */
/*
 * verdict: a critic's score read from its answer, by table: whole verdicts, clamping, answers
 * cut short after the score, and texts that carry no verdict; each also read from a copy with
 * no NUL after it (the reader must keep to n).
 */
#include "orion/verdict.h"
#include "../t.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *in;
    double want;
} cases[] = {
    {"{\"score\":0.9,\"issues\":[]}", 0.9},
    {"{\"issues\":[\"x\"],\"score\":0.25}", 0.25},
    {" {\"score\": 1, \"issues\": []} ", 1},
    {"{\"score\":0,\"issues\":[]}", 0},
    {"{\"score\":1.5,\"issues\":[]}", 1},
    {"{\"score\":-0.1,\"issues\":[]}", -1},
    {"{\"score\":\"0.9\",\"issues\":[]}", -1},
    {"{\"issues\":[]}", -1},
    {"[{\"score\":0.9}]", -1},
    {"0.9", -1},
    {"", -1},
    {"The answer is fine. Score: 0.9", -1},
    {"{\"score\":0.9,\"issues\":[\"care about\",\"code and detail", 0.9},
    {"{\"score\":0.42,", 0.42},
    {"{\"score\":0.4", -1},  /* the number itself may be cut */
    {"{\"score\":", -1},
    {"{\"score\":x,", -1},
    {"{\"score\":1e400,", 1},
    {"{\"score\":0.5.5,", -1},
    {"{ \"score\":0.9,", -1}, /* a cut text is read only in the schema's own layout */
};

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].in);
        char *copy = malloc(n ? n : 1);
        double got = verdict_score(cases[i].in, n);

        ok(got == cases[i].want, "'%s' -> %g (got %g)", cases[i].in, cases[i].want, got);
        memcpy(copy, cases[i].in, n);
        is_int(verdict_score(copy, n) == got, 1, "... the same without a NUL after it");
        free(copy);
    }
    ok(strstr(verdict_schema, "\"required\":[\"score\",\"issues\"]") != NULL,
       "the schema requires score and issues");
    return done_testing();
}
