/* SPDX-License-Identifier: MIT */
/* Fuzz what an embedding brings in: Ollama's answer (ollama_embed_parse, both endpoints), the
 * vectors of an answer entry as the front walks them (entry_vec_next), and an entry's input
 * (contract_input_count). Byte 0 picks legacy or not; a vector handed out lies inside the
 * input, and an answer that parses walks to its end. */
#include "orion/contract.h"
#include "orion/entry.h"
#include "orion/jsonw.h"
#include "orion/ollama_embed.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const char *s, size_t n, bool must_end)
{
    size_t pos = 0, vlen;
    const char *v;
    int rc;

    while ((rc = entry_vec_next(s, n, &pos, &v, &vlen)) == 1)
        if (v < s || v + vlen > s + n || pos > n || vlen < 2)
            abort();
    if (must_end && rc != 0)
        abort(); /* the parser said array of arrays of numbers */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data + 1;
    struct ollama_embed_result r;
    struct buf wrap;
    size_t n;

    if (size < 1)
        return 0;
    n = size - 1;
    json_init();
    buf_init(&wrap, 1u << 20);
    if (ollama_embed_parse(s, n, data[0] & 1, &wrap, &r) == 0) {
        if (!(data[0] & 1) && (r.embeddings < s || r.embeddings + r.embeddings_len > s + n))
            abort();
        walk(r.embeddings, r.embeddings_len, true);
    }
    walk(s, n, false);
    (void)contract_input_count(s, n);
    buf_release(&wrap);
    return 0;
}
