/* Internals shared by metrics.c (registry, record path) and exposition.c
 * (scrape). Not part of the public API. */
#ifndef TOLLGATE_METRICS_INTERNAL_H
#define TOLLGATE_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "metrics/metrics.h"
#include "metrics/promfmt.h"

/* Families in exposition order: LiteLLM's registration order, then ours. */
enum fam {
    F_PROXY_FAILED,
    F_PROXY_TOTAL,
    F_REQ_LAT,
    F_API_LAT,
    F_TTFT,
    F_SPEND,
    F_TOTAL_TOK,
    F_INPUT_TOK,
    F_OUTPUT_TOK,
    F_KEY_REMAIN_REQ,
    F_KEY_REMAIN_TOK,
    F_OVERHEAD,
    F_OVERHEAD_GR,
    F_QUEUE_TIME,
    F_DEP_STATE,
    F_COOLED,
    F_DEP_SUCC,
    F_DEP_FAIL,
    F_DEP_TOTAL,
    F_LAT_PER_TOK,
    F_FALLBACK_OK,
    F_FALLBACK_FAIL,
    F_LLM_API_FAILED,
    F_REQUESTS,
    F_IN_FLIGHT,
    F_TG_INFLIGHT,
    F_TG_DISCONNECT,
    F_TG_USAGE_SOURCE,
    F_TG_TPOT,
    F_TG_LOAD,
    F_TG_PROMPT_EVAL,
    F_TG_EVAL,
    F_TG_PROMPT_TPS,
    F_TG_EVAL_TPS,
    F_TG_QUEUE,
    F_TG_API_REQ, /* Ollama management routes (the shard families end here) */
    F_TG_API_LAT,
    F_OL_UP,
    F_OL_LOADED,
    F_OL_SIZE,
    F_OL_VRAM,
    F_OL_EXPIRES,
    NFAM
};

/* Label kinds: where a label's value comes from. */
enum lk {
    LK_END_USER,
    LK_HASHED_KEY,
    LK_ALIAS,
    LK_TEAM,
    LK_TEAM_ALIAS,
    LK_USER,
    LK_USER_EMAIL,
    LK_REQUESTED_MODEL,
    LK_MODEL,
    LK_LITELLM_MODEL_NAME,
    LK_MODEL_ID,
    LK_API_BASE,
    LK_API_PROVIDER,
    LK_MODEL_GROUP,
    LK_ROUTE,
    LK_STATUS_CODE,
    LK_EXC_STATUS,
    LK_EXC_CLASS,
    LK_SOURCE,
    LK_OL_MODEL,
    LK_API_ROUTE, /* "route" of the management families (metrics_api_route) */
    LK_GROUP_AS_MODEL, /* "model" carrying the model group (the key's grp) */
    LK_FALLBACK_MODEL, /* the fallback group, kept in the key's dep field */
    LK_LE,
    NLK
};

enum ftype { FT_COUNTER, FT_GAUGE, FT_HISTOGRAM };

/* Which deployment fields a family's labels carry. Two deployments whose
 * projected label values are equal share one series, as in LiteLLM, so the
 * record path stores the first such deployment ("canonical") in the key. */
enum proj { PJ_NONE, PJ_MODEL, PJ_OVH, PJ_DEP, PJ_TG, NPJ };

enum bset { BS_NONE, BS_LATENCY, BS_DEFAULT, BS_TPOT, BS_LOAD, BS_TPS, NBS };

#define FAM_MAX_LABELS 12

typedef struct {
    const char *name; /* registered name; counters get "_total" */
    const char *help;
    enum ftype type;
    enum bset bs;
    enum proj pj;
    int nlabels;
    enum lk labels[FAM_MAX_LABELS]; /* declaration order, LiteLLM's */
} fam_def;

extern const fam_def metrics_fams[NFAM];
extern const char *const metrics_label_names[NLK];

/* Key of a series: family | canonical deployment | requested group | route |
 * status slot | exception class slot. Family in the top bits, so sorting
 * keys groups series by family in exposition order. */
#define KEY_NONE16 0xFFFFu
static inline uint64_t mkey(enum fam f, unsigned dep, unsigned grp, unsigned route, unsigned st, unsigned cls)
{
    return ((uint64_t)f << 58) | ((uint64_t)(dep & 0xFFFF) << 42) | ((uint64_t)(grp & 0xFFFF) << 26) |
           ((uint64_t)(route & 0xF) << 22) | ((uint64_t)(st & 0xFF) << 14) | ((uint64_t)(cls & 0xFF) << 6);
}
#define KEY_FAM(k) ((enum fam)((k) >> 58))
#define KEY_DEP(k) ((unsigned)(((k) >> 42) & 0xFFFF))
#define KEY_GRP(k) ((unsigned)(((k) >> 26) & 0xFFFF))
#define KEY_ROUTE(k) ((unsigned)(((k) >> 22) & 0xF))
#define KEY_ST(k) ((unsigned)(((k) >> 14) & 0xFF))
#define KEY_CLS(k) ((unsigned)(((k) >> 6) & 0xFF))

#define NROUTES MR_COUNT
#define CLS_NONE 0
#define CLS_OTHER (METRICS_MAX_EXCEPTION_CLASSES + 1)
#define NCLS (METRICS_MAX_EXCEPTION_CLASSES + 2)
#define ST_NONE 0
#define NSTATUS_MAX 48

typedef struct {
    size_t n; /* bounds including the final +Inf */
    double ub[METRICS_MAX_BUCKETS];
    char le[METRICS_MAX_BUCKETS][PROMFMT_FLOAT_MAX];
    uint8_t lelen[METRICS_MAX_BUCKETS];
} bucket_set;

typedef struct {
    char *group, *model, *model_id, *api_base, *provider; /* escaped label values */
    unsigned grp;                                         /* group index */
    uint16_t canon[NPJ];
} dep_info;

/* A series in a shard. Written only by the shard's thread; value and
 * buckets are read concurrently by the scraper (relaxed atomics). */
typedef struct {
    uint64_t key;
    double created; /* unix seconds, set before the series is published */
    _Atomic double value;       /* counter value, gauge value or histogram sum */
    _Atomic uint64_t *buckets;  /* histogram: non-cumulative counts per bound */
} series;

#define SHARD_CHUNK 256
#define SHARD_MAX_CHUNKS 4096

struct metrics_shard {
    metrics_registry *r;
    series *chunks[SHARD_MAX_CHUNKS];
    _Atomic size_t n; /* published series; release-stored after a series is filled in */
    /* Writer-private open-addressing index: series number + 1, 0 = empty. */
    uint32_t *idx;
    size_t idx_cap;
    _Atomic int64_t *inflight; /* per deployment */
    struct {
        const char *ptr;
        unsigned slot;
    } cls_cache[32];
};

typedef struct {
    char *name; /* escaped */
    double size, vram, expires;
} ol_model;

typedef struct {
    char *base; /* escaped */
    bool up;
    size_t nmodels;
    ol_model models[METRICS_MAX_OLLAMA_MODELS];
} ol_base;

struct metrics_registry {
    int nshards;
    metrics_shard **shards;
    size_t ndep;
    dep_info *dep;
    size_t ngroups; /* "other" is index ngroups */
    char **group_raw, **group_esc;
    uint32_t *group_idx; /* hash table over group_raw: index + 1 */
    size_t group_idx_cap;
    char *hashed_key, *alias, *user; /* escaped */
    bool emit_created;
    bucket_set bsets[NBS];
    uint8_t status_slot[600];
    const char *status_str[NSTATUS_MAX];
    unsigned nstatus;
    /* exception classes: append-only, published by ncls (release) */
    pthread_mutex_t cls_mu;
    _Atomic unsigned ncls; /* interned classes occupy slots 1..ncls */
    char *cls_raw[NCLS], *cls_esc[NCLS];
    /* registry-level series, indexed by canonical deployment */
    _Atomic int *dep_state;       /* -1 = never set */
    _Atomic uint64_t *cooled;     /* ndep x NSTATUS_MAX */
    _Atomic double *cooled_created;
    /* Ollama /api/ps state */
    pthread_mutex_t ol_mu;
    size_t nbases, nolmodels;
    ol_base *bases[METRICS_MAX_OLLAMA_BASES];
    _Atomic int64_t http_in_flight; /* litellm_in_flight_requests */
    /* scrape scratch, guarded by write_mu */
    pthread_mutex_t write_mu;
};

double metrics_now_unix(void);

#endif
