/* SPDX-License-Identifier: MIT */
/* ollama_embed's pure half: request bodies for /api/embed and /api/embeddings, and answers
 * read (vectors kept byte for byte), good and bad, by table. */
#include "orion/ollama_embed.h"
#include "../t.h"

#include <string.h>

struct bcase {
    const char *name;
    const char *input;
    bool legacy;
    int truncate;
    long long dims;
    const char *options, *keep_alive;
    const char *want_path, *want;
};

static const struct bcase bodies[] = {
    {"one string", "\"hi\"", false, -1, 0, NULL, NULL, "/api/embed",
     "{\"model\":\"nomic\",\"input\":\"hi\"}"},
    {"a list, truncate false, dimensions", "[\"a\",\"b\"]", false, 0, 256, NULL, NULL,
     "/api/embed",
     "{\"model\":\"nomic\",\"input\":[\"a\",\"b\"],\"truncate\":false,\"dimensions\":256}"},
    {"truncate true, options, keep_alive in s", "[\"a\"]", false, 1, 0, "{\"num_ctx\":512}", "300",
     "/api/embed",
     "{\"model\":\"nomic\",\"input\":[\"a\"],\"truncate\":true,\"options\":{\"num_ctx\":512},"
     "\"keep_alive\":300}"},
    {"keep_alive a duration", "[]", false, -1, 0, NULL, "10m", "/api/embed",
     "{\"model\":\"nomic\",\"input\":[],\"keep_alive\":\"10m\"}"},
    {"legacy: prompt, no truncate or dimensions", "\"hi\"", true, 0, 64, NULL, "-1",
     "/api/embeddings", "{\"model\":\"nomic\",\"prompt\":\"hi\",\"keep_alive\":-1}"},
};

static void test_bodies(void)
{
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        const struct bcase *c = &bodies[i];
        struct ollama_embed_req r;
        struct buf b;
        const char *path = NULL;

        memset(&r, 0, sizeof(r));
        r.model = "nomic";
        r.model_len = 5;
        r.input = c->input;
        r.input_len = strlen(c->input);
        r.legacy = c->legacy;
        r.truncate = c->truncate;
        r.dimensions = c->dims;
        r.options = c->options;
        r.keep_alive = c->keep_alive;
        buf_init(&b, 1 << 20);
        ok(ollama_embed_body(&r, &b, &path) == 0, "%s: built", c->name);
        is_str(path, c->want_path, "%s: path", c->name);
        is_str(buf_data(&b), c->want, "%s: body", c->name);
        buf_release(&b);
    }
    {
        struct ollama_embed_req r;
        struct buf b;
        const char *path;

        memset(&r, 0, sizeof(r));
        r.model = "m";
        r.model_len = 1;
        buf_init(&b, 1024);
        ok(ollama_embed_body(&r, &b, &path) < 0, "no input: refused");
        buf_release(&b);
    }
}

struct pcase {
    const char *name;
    const char *body;
    bool legacy;
    const char *want; /* NULL: refused */
    long long total, load, count;
};

static const struct pcase answers[] = {
    {"two vectors and the counters",
     "{\"model\":\"m\",\"embeddings\":[[0.6,-0.8],[1e-05,1]],\"total_duration\":9,"
     "\"load_duration\":4,\"prompt_eval_count\":6}",
     false, "[[0.6,-0.8],[1e-05,1]]", 9, 4, 6},
    {"no vectors, no counters", "{\"model\":\"m\",\"embeddings\":[]}", false, "[]", 0, 0, 0},
    {"legacy: one vector wrapped", "{\"embedding\":[0.25,0.5]}", true, "[[0.25,0.5]]", 0, 0, 0},
    {"legacy: empty", "{\"embedding\":[]}", true, "[[]]", 0, 0, 0},
    {"spaces kept as Ollama wrote them", "{ \"embeddings\" : [ [ 1 , 2 ] ] }", false,
     "[ [ 1 , 2 ] ]", 0, 0, 0},
    {"not JSON", "{\"embeddings\":[[1,", false, NULL, 0, 0, 0},
    {"an array", "[[1]]", false, NULL, 0, 0, 0},
    {"no embeddings", "{\"model\":\"m\"}", false, NULL, 0, 0, 0},
    {"a flat vector where a list is due", "{\"embeddings\":[1,2]}", false, NULL, 0, 0, 0},
    {"a string in a vector", "{\"embeddings\":[[1,\"2\"]]}", false, NULL, 0, 0, 0},
    {"legacy: a list where a vector is due", "{\"embedding\":[[1]]}", true, NULL, 0, 0, 0},
    {"legacy asked, embed answered", "{\"embeddings\":[[1]]}", true, NULL, 0, 0, 0},
    {"a negative counter reads 0", "{\"embeddings\":[],\"total_duration\":-5}", false, "[]", 0, 0,
     0},
};

static void test_answers(void)
{
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        const struct pcase *c = &answers[i];
        struct ollama_embed_result r;
        struct buf wrap;
        int rc;

        buf_init(&wrap, 1 << 20);
        rc = ollama_embed_parse(c->body, strlen(c->body), c->legacy, &wrap, &r);
        if (!c->want) {
            ok(rc < 0, "%s: refused", c->name);
        } else {
            ok(rc == 0 && r.embeddings_len == strlen(c->want) &&
                   !memcmp(r.embeddings, c->want, r.embeddings_len),
               "%s: vectors", c->name);
            ok(r.total_duration == c->total && r.load_duration == c->load &&
                   r.prompt_eval_count == c->count, "%s: counters", c->name);
        }
        buf_release(&wrap);
    }
}

int main(void)
{
    test_bodies();
    test_answers();
    return done_testing();
}
