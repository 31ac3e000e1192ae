/* SPDX-License-Identifier: MIT */
/* Fuzz what a pull and /api/version bring in from Ollama: the input is split at '\n' into
 * progress lines for ollama_progress_parse, and read whole by ollama_version_parse. What is
 * read stays NUL-terminated within its buffer. */
#include "orion/ollama_models.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data, *end = s + size;
    struct ollama_progress p;
    char err[128], v[65];

    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        int rc = ollama_progress_parse(s, n, &p, err, sizeof(err));
        if (rc == 0 && (memchr(p.status, 0, sizeof(p.status)) == NULL ||
                        memchr(p.digest, 0, sizeof(p.digest)) == NULL || p.total < -1 ||
                        p.completed < -1))
            abort();
        if (rc == 1 && !memchr(err, 0, sizeof(err)))
            abort();
        s += n + 1;
    }
    if (ollama_version_parse((const char *)data, size, v, sizeof(v)) == 0 && !memchr(v, 0, sizeof(v)))
        abort();
    return 0;
}
