/* SPDX-License-Identifier: MIT */
#include "orion/jsonw.h"
#include "../t.h"

int main(void)
{
    struct buf b;

    buf_init(&b, 1024);
    ok(json_quote(&b, "plain", 5) == 0, "quote");
    is_str(buf_data(&b), "\"plain\"", "plain text in quotes");
    buf_reset(&b);
    json_quote(&b, "a\"b\\c\nd\te\x01\x1f", 11);
    is_str(buf_data(&b), "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\"", "escapes");
    buf_reset(&b);
    json_quote(&b, "h\xc3\xa9 \xe2\x82\xac", 7);
    is_str(buf_data(&b), "\"h\xc3\xa9 \xe2\x82\xac\"", "UTF-8 passes through");
    buf_reset(&b);
    json_quote(&b, "nul\0x", 5);
    is_str(buf_data(&b), "\"nul\\u0000x\"", "NUL escaped, length respected");
    buf_release(&b);
    buf_init(&b, 4);
    ok(json_quote(&b, "toolong", 7) < 0, "cap reported");
    buf_release(&b);
    return done_testing();
}
