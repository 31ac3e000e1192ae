/* SPDX-License-Identifier: MIT */
/*
 * ollama-sim: an imitation of Ollama (SIM_OLLAMA_VERSION by default; --version-string picks
 * the generation whose behaviour differs) on our loop, for tests and demos. main.c routes
 * requests, models.c keeps the model table (installed, pullable, metadata, specs), show.c
 * writes /api/show, /api/tags and /api/ps, sched.c owns loading (keep-alive, eviction, queue,
 * slots), cache.c the slots' prompt cache, tok.c the token rule and template, native.c decodes
 * /api/chat and /api/generate, gen.c produces tokens on timers, schema.c structured outputs,
 * embed.c the embedding endpoints, pull.c pull/copy/delete/create/push, render.c writes
 * Go-style JSON and frames responses as Go's net/http does, openai.c the /v1 chat adapter,
 * sysfs.c the fake /proc and /sys.
 */
#ifndef ORION_SIM_H
#define ORION_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "cJSON.h"
#include "cache.h"
#include "orion/buf.h"
#include "orion/httpd.h"
#include "orion/limits.h"
#include "orion/loop.h"
#include "schema.h"
#include "tok.h"

#define SIM_OLLAMA_VERSION "0.32.6"
#define SIM_MAX_MODELS 64
#define SIM_FOREVER_NS 9223372036854775807LL /* Go: max time.Duration */
#define SIM_MODELS_DIR "/usr/share/ollama/.ollama/models"

enum sim_state { M_UNLOADED, M_LOADING, M_LOADED };
enum sim_kind { K_GENERATE, K_CHAT, K_OPENAI, K_EMBED, K_EMBED_LEGACY, K_EMBED_OPENAI };
enum sim_fail { F_NONE, F_DOWN, F_GARBAGE, F_HANG, F_MIDSTREAM };
/* in the order /api/show and /api/tags list them (types/model/capability.go names) */
enum sim_cap {
    CAP_COMPLETION = 1 << 0,
    CAP_EMBEDDING = 1 << 1,
    CAP_TOOLS = 1 << 2,
    CAP_THINKING = 1 << 3,
    CAP_INSERT = 1 << 4,
    CAP_VISION = 1 << 5,
};

struct sim_req;

struct sim;

struct sim_model {
    struct sim *s;
    char name[ORION_MODEL_MAX];
    char digest[65], family[32], psize[16], quant[16];
    unsigned caps;
    bool installed, pullable;
    bool raw_legacy;                    /* legacy /api/embeddings answers the vector unnormalised */
    long ctx_train, num_ctx, embed_len; /* num_ctx: the Modelfile's PARAMETER, 0 none */
    int blocks, heads, heads_kv, file_type;
    long long params, disk_size, ram_size, modified_ms, kv_bytes; /* modified: Unix ms */
    double pi_prefill, prefill_tps; /* Pi 5 prompt tokens/s; explicit --prefill-tps (0 none) */
    long load_ms;
    long loaded_ctx; /* num_ctx of the running runner */
    int parallel;    /* its slots */
    enum sim_state state;
    int active;                       /* generations running */
    struct sim_req *wait, *wait_tail; /* waiting for a slot */
    long long keep_alive_ns;          /* < 0: forever */
    int64_t expires_ms;               /* wall ms shown in /api/ps */
    unsigned long expire_tmr;
    bool evict; /* unload once idle (a victim that was busy, or a reload) */
    struct kv_cache kv;
};

struct sim {
    struct loop *l;
    struct httpd *h;
    const char *listen, *sysfs_root, *version;
    long tokens_per_s, max_loaded, num_parallel, max_queue, ram_mb, num_ctx, cache_ram_mib;
    double pull_mbps;
    int gen;             /* 24: the Go runners' generation (< v0.30), 30: llama-server's */
    bool count_uncached; /* v0.30.0: prompt_eval_count counts only what was evaluated */
    enum kv_mode kv_mode;
    struct schema_steer steer; /* --json-score */
    long long default_ka_ns;
    struct sim_model models[SIM_MAX_MODELS];
    int nmodels;
    struct sim_req *pending, *pending_tail; /* waiting for the loader */
    long npending;
    struct sim_model *loading;
    struct sim_req *loading_req;
    unsigned long load_tmr;
    enum sim_fail fail;
    long down_ms;
    char listen_buf[300];
    bool temp_forced;
    double temp_c, forced_c;
    bool shared_cpu; /* --shared-cpu: running requests divide the token and prefill rates */
    double temp_idle, temp_busy, temp_tau; /* the sensor's first-order model: settles at idle or
                                              busy, time constant tau seconds */
    unsigned long long cpu_busy, cpu_idle;
    double load1;
};

struct sim_req {
    struct sim *s;
    struct httpd_req *hr;
    struct sim_req *next;
    enum sim_kind kind;
    struct sim_model *m;
    char *model; /* as sent */
    bool stream, include_usage, load_only, has_ka, started, raw, truncate, shift;
    long long ka_ns;
    long num_predict, num_ctx, num_keep;
    uint32_t hash;
    struct tokv ptok; /* the prompt as the runner evaluates it */
    int cached, slot; /* tokens the slot held already; slot -1: none */
    int share;        /* sim_share when its prompt evaluation began (its prefill took that x) */
    int64_t t0_ns, loaded_ns, first_ns;
    int ntok, maxtok, where; /* where: 0 pending, 1 loading, 2 slot wait, 3 running */
    bool length;
    unsigned long tmr;
    struct buf acc; /* stream:false: the text so far */
    struct buf ans; /* every piece of the answer so far (appended to the slot at the end) */
    char *answer;   /* a fixed answer (structured output, reply marker): its pieces in turn */
    size_t answer_off;
    cJSON *format; /* "json" or a schema; NULL: free text */
    struct schema_steer steer;
    int err_status; /* the runner's error when the generation starts (0: none) */
    char *err_msg;
    int oai_id;
    long long created;
    char **inputs; /* embeddings: the inputs, their token counts */
    long *in_tokens;
    int ninputs;
    long dims;
    bool b64;
};

/* main.c */
struct sim_req *sim_req_new(struct sim *s, struct httpd_req *hr, enum sim_kind kind);
void sim_req_go(struct sim_req *r); /* to the scheduler; client gone = abandoned */

/* sched.c */
void sched_submit(struct sim_req *r);       /* may answer 503 and free r */
void sched_finish(struct sim_req *r);       /* generation over: free its slot */
void sched_abandon(struct sim_req *r);      /* client left: drop from any queue */
void sched_unload_now(struct sim_model *m); /* keep_alive 0 shortcut */
int sim_busy(const struct sim *s);          /* generations running + a load */
/* How many ways the node's CPU is split for a request running now: with --shared-cpu the
 * requests running at once on every model (at least 1), else 1. */
int sim_share(const struct sim *s);
long long sim_ram_used(const struct sim *s);

/* models.c */
struct sim_model *sim_find_model(struct sim *s, const char *name); /* installed */
struct sim_model *sim_find_any(struct sim *s, const char *name);   /* installed or pullable */
int sim_add_models(struct sim *s, const char *list, bool installed, char *err, size_t errlen);
struct sim_model *sim_model_copy(struct sim *s, const struct sim_model *src, const char *name);
bool sim_name_valid(const char *name);
void sim_full_name(const char *name, char *out, size_t n);   /* registry.ollama.ai/library/x:tag */
double sim_prefill(const struct sim_model *m);               /* prompt tokens a second */
long sim_req_ctx(const struct sim_model *m, long requested); /* num_ctx a request runs with */
int sim_set_prefill(struct sim *s, const char *spec, char *err, size_t errlen);
void sim_set_version(struct sim *s);
void sim_caps_json(struct buf *b, unsigned caps);

/* show.c */
void show_tags(struct sim *s, struct buf *b);
void show_ps(struct sim *s, struct buf *out);
int show_model(struct sim *s, const char *body, size_t n, struct buf *b, char *err, size_t errlen);

/* gen.c */
void gen_start(struct sim_req *r);  /* the model is ready and r has a slot */
void gen_loaded(struct sim_req *r); /* load-only request: answer now */
void gen_free(struct sim_req *r);
void gen_text(uint32_t hash, int i, int n, struct buf *out); /* token i of n */
int gen_natural_len(uint32_t hash);
void gen_let_go(struct sim_req *r); /* r's answer ends now: unhook client_gone */
void gen_fail(struct sim_req *r, int status, const char *msg);  /* answers, finishes, frees r */
int gen_answer_tokens(const struct sim_req *r, struct tokv *t); /* what the slot appends */

/* embed.c */
void embed_native(struct sim *s, struct httpd_req *hr, const struct httpd_request *q);
void embed_legacy(struct sim *s, struct httpd_req *hr, const struct httpd_request *q);
void embed_openai(struct sim *s, struct httpd_req *hr, const struct httpd_request *q);
void embed_run(struct sim_req *r);    /* the model is ready and r has a slot */
void embed_loaded(struct sim_req *r); /* no input: the load answer */

/* pull.c */
void pull_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q);
void copy_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q);
void delete_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q);
void create_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q);
void push_model(struct sim *s, struct httpd_req *hr, const struct httpd_request *q);

/* render.c */
int64_t now_ns(void);
int go_quote(struct buf *b, const char *s, size_t n);
int go_q(struct buf *b, const char *s, size_t n); /* Go's %q (strconv.Quote) */
int go_float32(struct buf *b, float f);           /* encoding/json's float32 */
int go_float64(struct buf *b, double f);          /* encoding/json's float64 */
void go_time_utc(char out[64], int64_t ns);
void go_time_local(char out[64], int64_t ms);
void reply_json(struct httpd_req *r, int status, const char *ctype, const char *body, size_t n);
void reply_error(struct httpd_req *r, int status, const char *msg); /* native {"error":..} */
void reply_error_ct(struct httpd_req *r, int status, const char *ctype, const char *msg);
void reply_text(struct httpd_req *r, int status, const char *ctype, const char *body);
void reply_empty(struct httpd_req *r); /* 200, no Content-Type, Content-Length: 0 */
void reply_chunk(struct sim_req *q, const char *ctype, const char *p, size_t n); /* headers once */

/* openai.c */
void openai_chat(struct sim *s, struct httpd_req *hr, const struct httpd_request *req);
void openai_models(struct sim *s, struct httpd_req *hr);
void openai_token(struct sim_req *r, const char *tok, size_t n);
void openai_final(struct sim_req *r, const char *reason, long long prompt_n, long long eval_n);
void openai_error(struct httpd_req *hr, int status, const char *msg);
void openai_early_error(struct httpd_req *hr, int status, const char *msg);

/* sysfs.c */
int sysfs_start(struct sim *s);

#endif
