/* SPDX-License-Identifier: MIT */
/*
 * verdict: a critic's answer in critique mode (orch.h), asked for through Ollama's structured
 * outputs: `format` is verdict_schema, {"score": number 0..1, "issues": [string]}, both
 * required, score first. verdict_score reads the score back from the answer's text:
 *   - a JSON object with a number "score": that number, clamped to [0, 1] (above 1 is 1);
 *   - a text that does not parse but starts exactly {"score": followed by a number and more
 *     (an answer cut short by num_predict after its score): that number, clamped;
 *   - anything else, a negative or NaN score: -1 (no verdict).
 * Reads at most n bytes; s need not be NUL-terminated.
 */
#ifndef ORION_VERDICT_H
#define ORION_VERDICT_H

#include <stddef.h>

extern const char verdict_schema[];

double verdict_score(const char *s, size_t n);

#endif
