/* SPDX-License-Identifier: MIT */
/* Fuzz the request head parser: byte 0 picks the feed piece size; the input grows by pieces
 * as a server's buffer does, and each prefix is parsed until a head or an error. */
#include "orion/http.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1;
    struct http_head h;
    size_t step, have = 0, n;
    int st, rc = ORION_AGAIN;

    if (size < 1)
        return 0;
    n = size - 1;
    step = data[0] ? data[0] : n + 1;
    while (rc == ORION_AGAIN && have < n) {
        have = n - have < step ? n : have + step;
        rc = http_parse_request(p, have, &h, &st);
    }
    if (rc > 0) {
        if ((size_t)rc > have || h.nh > ORION_HTTP_MAX_HEADERS ||
            (h.chunked && h.content_length >= 0))
            abort();
        for (size_t i = 0; i < h.nh; i++)
            if (h.h[i].name < p || h.h[i].value + h.h[i].value_len > p + rc)
                abort();
        http_find(&h, "content-length");
    } else if (rc == -1 && st != 400 && st != 431 && st != 501) {
        abort();
    }
    return 0;
}
