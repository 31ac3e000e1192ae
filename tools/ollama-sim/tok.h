/* SPDX-License-Identifier: MIT */
/*
 * tok: the simulator's tokenizer rule, its chat template and Ollama's two truncation rules.
 * Pure: no I/O, no loop; test/unit/test_sim_core.c runs it by tables.
 *
 * The rule stands in for a BPE vocabulary (docs/OLLAMA-SIM.md, "Tokens"):
 *  - a word is a run of ASCII letters, digits and bytes >= 0x80; it is cut into pieces of at
 *    most TOK_WORD_MAX bytes;
 *  - every other byte that is not blank is a piece of its own;
 *  - one space right before a word or such a byte belongs to that piece; every other blank
 *    byte (space, tab, CR, LF) is a piece of its own.
 * So "Hello, world!" is "Hello" "," " world" "!": 4 tokens. A piece's id is
 * 256 + FNV-1a(piece) mod 127744; the template's special tokens are TOK_BOS.. (128000 up),
 * an image is TOK_IMAGE_TOKENS ids from TOK_IMAGE_BASE up derived from its bytes.
 *
 * The template renders a chat as Llama 3 does in shape: BOS, then per message
 * START role END content EOT, then START assistant END (a role is one token). Turn N+1's prompt
 * therefore begins with turn N's prompt followed by turn N's answer, as with Ollama's templates.
 */
#ifndef ORION_SIM_TOK_H
#define ORION_SIM_TOK_H

#include <stddef.h>
#include <stdint.h>

#define TOK_WORD_MAX 5
#define TOK_BOS 128000u
#define TOK_START 128006u
#define TOK_END 128007u
#define TOK_EOT 128009u
#define TOK_IMAGE_BASE 200000u
#define TOK_IMAGE_TOKENS 256

struct tokv {
    uint32_t *v;
    int n, cap;
};

/* a message to render: content of len bytes, nimg images given by their hashes */
struct tok_msg {
    const char *role, *content;
    size_t len;
    const uint32_t *img;
    int nimg;
};

void tokv_init(struct tokv *t);
void tokv_release(struct tokv *t);
int tokv_push(struct tokv *t, uint32_t id);                /* 0, or -1 out of memory */
int tokv_append(struct tokv *t, const uint32_t *v, int n); /* 0 or -1 */
int tokv_text(struct tokv *t, const char *s, size_t n);    /* the pieces' ids; 0 or -1 */

size_t tok_piece(const char *s, size_t n); /* bytes of the first piece of s; 0 when n is 0 */
int tok_count(const char *s, size_t n);    /* pieces in s */
uint32_t tok_id(const char *piece, size_t n);

/* Renders msgs[first..n) after the system messages among msgs[0..first), as Ollama's
 * chatPrompt does when it drops the oldest messages; tools (NULL: none) is the text of the
 * tool definitions, rendered after BOS. Image i of a message adds TOK_IMAGE_TOKENS ids when
 * img_tokens is set (a vision model), nothing otherwise. 0, or -1 out of memory. */
int tok_render_chat(struct tokv *out, const struct tok_msg *m, int n, int first, const char *tools,
                    int img_tokens);
/* The first message chatPrompt keeps: the smallest i whose render fits num_ctx tokens,
 * at most n - 1 (the last message always stays). -1 out of memory. */
int tok_chat_fit(const struct tok_msg *m, int n, const char *tools, int img_tokens, long num_ctx);

/* The runners' cut of a prompt longer than the context, keeping the first num_keep tokens and
 * the tail. gen 24 (Ollama <= v0.24, runner/ollamarunner/runner.go NewSequence): a prompt over
 * num_ctx becomes num_ctx tokens. gen 30 (>= v0.30, llm/llama_server.go
 * completionPromptForRequest): a prompt over num_ctx - 1 becomes
 * num_ctx - max((num_ctx - keep) / 2, 1) tokens, keep = num_keep + 1 for the BOS, both
 * capped at num_ctx - 1. Returns the tokens removed (0: it fitted). */
int tok_truncate(struct tokv *t, long num_ctx, long num_keep, int gen);

#endif
