/* SPDX-License-Identifier: MIT */
/*
 * ollama-sim: an imitation of one Ollama release (SIM_OLLAMA_VERSION) on our loop, for tests
 * and demos. main.c routes requests, sched.c owns the models (load, keep-alive, eviction,
 * queue, slots), gen.c produces tokens on timers, render.c writes Go-style JSON and frames
 * responses as Go's net/http does, openai.c the /v1 adapter, sysfs.c the fake /proc and /sys.
 */
#ifndef ORION_SIM_H
#define ORION_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "orion/buf.h"
#include "orion/httpd.h"
#include "orion/limits.h"
#include "orion/loop.h"

#define SIM_OLLAMA_VERSION "0.32.6"
#define SIM_MAX_MODELS 32
#define SIM_FOREVER_NS 9223372036854775807LL /* Go: max time.Duration */

enum sim_state { M_UNLOADED, M_LOADING, M_LOADED };
enum sim_kind { K_GENERATE, K_CHAT, K_OPENAI };
enum sim_fail { F_NONE, F_DOWN, F_GARBAGE, F_HANG, F_MIDSTREAM };

struct sim_req;

struct sim;

struct sim_model {
    struct sim *s;
    char name[ORION_MODEL_MAX];
    char digest[65], family[32], psize[16], quant[16], caps[64];
    long long disk_size, ram_size, modified_ms; /* modified: Unix ms */
    long load_ms;
    enum sim_state state;
    int active;                    /* generations running */
    struct sim_req *wait, *wait_tail; /* waiting for a slot */
    long long keep_alive_ns;       /* < 0: forever */
    int64_t expires_ms;            /* wall ms shown in /api/ps */
    unsigned long expire_tmr;
    bool evict;                    /* unload once idle (a victim that was busy) */
};

struct sim {
    struct loop *l;
    struct httpd *h;
    const char *listen, *sysfs_root, *version;
    long tokens_per_s, max_loaded, num_parallel, max_queue, ram_mb;
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
    bool stream, include_usage, load_only, has_ka, started, raw;
    long long ka_ns;
    long num_predict;
    uint32_t hash;
    long prompt_tokens;
    int64_t t0_ns, loaded_ns, first_ns;
    int ntok, maxtok, where; /* where: 0 pending, 1 loading, 2 slot wait, 3 running */
    bool length;
    unsigned long tmr;
    struct buf acc; /* stream:false: the text so far */
    int oai_id;
    long long created;
};

/* main.c */
struct sim_req *sim_req_new(struct sim *s, struct httpd_req *hr, enum sim_kind kind);
void sim_req_go(struct sim_req *r); /* to the scheduler; client gone = abandoned */

/* sched.c */
void sched_submit(struct sim_req *r);       /* may answer 503 and free r */
void sched_finish(struct sim_req *r);       /* generation over: free its slot */
void sched_abandon(struct sim_req *r);      /* client left: drop from any queue */
void sched_unload_now(struct sim_model *m); /* keep_alive 0 shortcut */
struct sim_model *sim_find_model(struct sim *s, const char *name);
int sim_add_model(struct sim *s, const char *name, long load_ms);
void sim_ps_json(struct sim *s, struct buf *out);
int sim_busy(const struct sim *s);      /* generations running + a load */
long long sim_ram_used(const struct sim *s);

/* gen.c */
void gen_start(struct sim_req *r);     /* the model is ready and r has a slot */
void gen_loaded(struct sim_req *r);    /* load-only request: answer now */
void gen_free(struct sim_req *r);
void gen_text(uint32_t hash, int i, int n, struct buf *out); /* token i of n */
int gen_natural_len(uint32_t hash);

/* render.c */
int64_t now_ns(void);
int go_quote(struct buf *b, const char *s, size_t n);
void go_time_utc(char out[64], int64_t ns);
void go_time_local(char out[64], int64_t ms);
void reply_json(struct httpd_req *r, int status, const char *ctype, const char *body, size_t n);
void reply_error(struct httpd_req *r, int status, const char *msg); /* native {"error":..} */
void reply_text(struct httpd_req *r, int status, const char *ctype, const char *body);
void reply_chunk(struct sim_req *q, const char *ctype, const char *p, size_t n); /* headers once */

/* openai.c */
void openai_chat(struct sim *s, struct httpd_req *hr, const struct httpd_request *req);
void openai_models(struct sim *s, struct httpd_req *hr);
void openai_token(struct sim_req *r, const char *tok, size_t n);
void openai_final(struct sim_req *r, const char *reason, long long prompt_n, long long eval_n);
void openai_error(struct httpd_req *hr, int status, const char *msg);

/* sysfs.c */
int sysfs_start(struct sim *s);

#endif
