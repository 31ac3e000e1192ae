/* SPDX-License-Identifier: MIT */
/*
 * reqconv: a request's messages as a prefix chain. Turn N+1 of a chat must agree with turn N
 * up to turn N's last message however the client spelled the JSON, and must not agree past a
 * changed message; images cost the chain a constant; a prompt is a one-message chat.
 */
#include "orion/buf.h"
#include "orion/jsonw.h"
#include "orion/reqconv.h"
#include "../t.h"

#include <errno.h>

/* The chain of a request with these fields (messages or prompt; system and images may be
 * NULL). */
static int chain(struct route_conv *c, const char *messages, const char *prompt,
                 const char *system, const char *images)
{
    struct contract_request r;

    memset(&r, 0, sizeof(r));
    r.messages.p = messages, r.messages.n = messages ? strlen(messages) : 0;
    r.prompt.p = prompt, r.prompt.n = prompt ? strlen(prompt) : 0;
    r.system.p = system, r.system.n = system ? strlen(system) : 0;
    r.images.p = images, r.images.n = images ? strlen(images) : 0;
    route_conv_init(c);
    return reqconv_build(&r, c);
}

#define SYS "{\"role\":\"system\",\"content\":\"You are terse.\"}"
#define U1 "{\"role\":\"user\",\"content\":\"What is a Pi?\"}"
#define A1 "{\"role\":\"assistant\",\"content\":\"A small computer.\"}"
#define U2 "{\"role\":\"user\",\"content\":\"How much RAM?\"}"

static void test_turns(void)
{
    struct route_conv t1, t2, t3, o;

    ok(chain(&t1, "[" SYS "," U1 "]", NULL, NULL, NULL) == 0 && t1.n == 2, "turn 1: 2 messages");
    ok(chain(&t2, "[" SYS "," U1 "," A1 "," U2 "]", NULL, NULL, NULL) == 0 && t2.n == 4,
       "turn 2: 4 messages");
    ok(route_conv_hash_at(&t1, 1) == route_conv_hash_at(&t2, 1) && route_conv_hash_at(&t1, 1),
       "turn 2 agrees with turn 1 up to turn 1's last message");
    is_int(route_conv_tokens_at(&t2, 1), route_conv_tokens(&t1), "... and counts the same tokens");
    /* the same turn written by another client: other key order, spaces, extra null fields */
    ok(chain(&t3,
             " [ {\"content\": \"You are terse.\", \"role\": \"system\"},\n"
             "   {\"images\": null, \"content\": \"What is a Pi?\", \"role\": \"user\"} ]",
             NULL, NULL, NULL) == 0 &&
           route_conv_hash_at(&t3, 1) == route_conv_hash_at(&t1, 1),
       "key order, white space and null fields do not change the chain");
    ok(chain(&o, "[" SYS ",{\"role\":\"user\",\"content\":\"What is a Pi 5?\"}]", NULL, NULL,
             NULL) == 0 &&
           route_conv_hash_at(&o, 0) == route_conv_hash_at(&t1, 0) &&
           route_conv_hash_at(&o, 1) != route_conv_hash_at(&t1, 1),
       "a changed message: agrees before it, not from it on");
    ok(chain(&o, "[{\"role\":\"system\",\"content\":\"What is a Pi?\"}]", NULL, NULL, NULL) == 0 &&
           chain(&t3, "[" U1 "]", NULL, NULL, NULL) == 0 &&
           route_conv_hash_at(&o, 0) != route_conv_hash_at(&t3, 0),
       "the same text under another role is another message");
}

static void test_parts(void)
{
    struct route_conv a, b, c;
    static char big[40000];

    ok(chain(&a, "[{\"role\":\"user\",\"content\":\"see\",\"images\":[\"aGVsbG8=\"]}]", NULL, NULL,
             NULL) == 0 &&
           chain(&b, "[{\"role\":\"user\",\"content\":\"see\",\"images\":[\"d29ybGQ=\"]}]", NULL,
                 NULL, NULL) == 0 &&
           route_conv_hash_at(&a, 0) != route_conv_hash_at(&b, 0),
       "another image: another message");
    memset(big, 'Q', sizeof(big) - 1);
    {
        char *m = orion_malloc(sizeof(big) + 64);
        int rc;

        snprintf(m, sizeof(big) + 64,
                 "[{\"role\":\"user\",\"content\":\"see\",\"images\":[\"%s\"]}]", big);
        rc = chain(&c, m, NULL, NULL, NULL); /* before the message's argument reads c */
        ok(rc == 0 && route_conv_tokens(&c) < 40, "a 40 KB image costs a few tokens, not 10 000 (%lu)",
           route_conv_tokens(&c));
        orion_free(m);
    }
    ok(chain(&a, "[{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
                 "{\"name\":\"f\",\"arguments\":{\"x\":1}}}]}]",
             NULL, NULL, NULL) == 0 &&
           chain(&b, "[{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
                     "{\"name\":\"f\",\"arguments\":{\"x\":2}}}]}]",
                 NULL, NULL, NULL) == 0 &&
           route_conv_hash_at(&a, 0) != route_conv_hash_at(&b, 0),
       "tool calls count");
    ok(chain(&a, "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]", NULL,
             NULL, NULL) == 0 &&
           chain(&b, "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"ho\"}]}]",
                 NULL, NULL, NULL) == 0 &&
           a.n == 1 && route_conv_hash_at(&a, 0) != route_conv_hash_at(&b, 0),
       "content that is not a string hashes its JSON");
    ok(chain(&a, "[\"hi\", 3, null]", NULL, NULL, NULL) == 0 && a.n == 3,
       "elements that are not objects are messages too");
    errno = 0;
    ok(chain(&a, "{\"role\":\"user\"}", NULL, "sys", NULL) < 0 && errno == EINVAL && a.n == 1,
       "messages not an array: EINVAL, the system field kept");
}

static void test_prompt(void)
{
    struct route_conv g, c, s;

    ok(chain(&g, NULL, "What is a Pi?", NULL, NULL) == 0 && g.n == 1, "a prompt: one message");
    ok(chain(&c, "[" U1 "]", NULL, NULL, NULL) == 0 &&
           route_conv_hash_at(&g, 0) == route_conv_hash_at(&c, 0),
       "... the same as a chat of that one user message");
    ok(chain(&s, NULL, "What is a Pi?", "You are terse.", NULL) == 0 && s.n == 2 &&
           chain(&c, "[" SYS "," U1 "]", NULL, NULL, NULL) == 0 &&
           route_conv_hash_at(&s, 1) == route_conv_hash_at(&c, 1),
       "system + prompt: the same as a chat with that system message");
    ok(chain(&c, NULL, "What is a Pi?", NULL, "[\"aGVsbG8=\"]") == 0 &&
           route_conv_hash_at(&c, 0) != route_conv_hash_at(&g, 0),
       "a prompt's images count");
    ok(chain(&c, NULL, NULL, NULL, NULL) == 0 && c.n == 0, "neither: an empty chain");
}

static void test_oom(void)
{
    struct route_conv c;
    int fails = 0, oks = 0;

    for (unsigned long i = 1; i < 40; i++) {
        orion_alloc_fail_at(i);
        errno = 0;
        if (chain(&c, "[" SYS ",{\"role\":\"user\",\"content\":[1,2],\"tool_calls\":[{}]}]", NULL,
                  NULL, NULL) < 0)
            fails += errno == ENOMEM;
        else
            oks++;
    }
    orion_alloc_fail_at(0);
    ok(fails > 0 && oks > 0, "allocation failures: -1 ENOMEM, nothing leaked (%d failed)", fails);
}

int main(void)
{
    json_init();
    test_turns();
    test_parts();
    test_prompt();
    test_oom();
    return done_testing();
}
