/* The simulator's model registry and scheduler, shared by all worker
 * threads behind one mutex (critical sections are a few loads and stores).
 *
 * It reproduces Ollama's scheduling (research/ollama.md §4):
 *  - a model is loaded by the first request that needs it; loads run one at
 *    a time, FIFO across models, each taking load_ns;
 *  - requests waiting for a load hold a queue place; when max_queue places
 *    are taken, the next one is refused (503 "server busy");
 *  - a loaded model serves num_parallel requests at once (1 for embedding
 *    models); more wait FIFO without limit and without 503;
 *  - when the last request of a model finishes, expires_at = now +
 *    keep_alive; the model unloads then (negative keep_alive: never).
 * Expiry is evaluated lazily whenever the state is looked at, so no timer
 * runs on behalf of an idle model.
 *
 * A waiter (sim_wait, owned by the caller) waits on its own thread's event
 * loop: for a load, the caller arms a timer for the delay sched_acquire
 * returns and calls sched_acquire again; for a slot, the scheduler creates
 * an event on the waiter's base and activates it (from whichever thread
 * releases the slot) once the slot is the waiter's. */
#ifndef TOLLGATE_SIM_SCHED_H
#define TOLLGATE_SIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

typedef struct {
    char name[96];        /* normalized "name:tag" */
    char family[32];
    char param_size[16];  /* "3.2B" */
    char quant[16];       /* "Q4_K_M" */
    char digest[65];      /* 64 hex chars */
    int64_t size;         /* bytes */
    int64_t modified_sec; /* modified_at, Unix seconds */
    long modified_nsec;
    bool embedding;       /* capability "embedding" instead of completion */
    int embed_dim;
    int context_length;   /* trained context */
    int num_ctx;          /* per-slot context reported by /api/ps */
} sim_model_info;

typedef struct {
    int num_parallel;      /* >= 1 */
    int max_queue;         /* >= 0 */
    int64_t keep_alive_ns; /* default at load time; < 0 forever */
    int64_t load_ns;       /* time one cold load takes */
} sim_sched_cfg;

typedef struct sim_sched sim_sched;

#define SIM_KA_UNSET INT64_MIN

enum sim_wait_phase { SIM_WAIT_IDLE = 0, SIM_WAIT_LOAD, SIM_WAIT_SLOT, SIM_WAIT_HOLD };

typedef struct sim_wait {
    struct sim_wait *next;
    struct event *wake; /* created by the scheduler for slot waits; the
                           caller frees it (event_free) when done */
    enum sim_wait_phase phase;
} sim_wait;

enum sim_acquire { SIM_GO, SIM_LOADING, SIM_WAIT, SIM_BUSY };

/* names: "name[:tag]" (tag defaults to "latest"); duplicates are dropped.
 * Returns NULL on allocation failure or when no name is usable. */
sim_sched *sim_sched_new(const sim_sched_cfg *cfg, const char *const *names, int n);
void sim_sched_free(sim_sched *s);

int sim_sched_model_count(const sim_sched *s);
const sim_model_info *sim_sched_model(const sim_sched *s, int i);
/* Index of the model named (case-insensitive, ":latest" implied), or -1. */
int sim_sched_find(const sim_sched *s, const char *name, size_t len);
/* Writes the normalized form of name (adds ":latest") into out. */
void sim_model_normalize(const char *name, size_t len, char *out, size_t cap);

/* Asks for a slot of model m at monotonic time now (ns). keep_alive is the
 * request's value or SIM_KA_UNSET. Returns:
 *   SIM_GO       the slot is held (phase HOLD);
 *   SIM_LOADING  the model is loading: call again after *delay_ns;
 *   SIM_WAIT     all slots busy: w->wake (created on base with cb/arg) is
 *                activated once the slot is held;
 *   SIM_BUSY     the load queue is full: answer 503.
 * *runner_ready is set true once the model is loaded (for SIM_GO and
 * SIM_WAIT): load_duration ends there. */
enum sim_acquire sim_sched_acquire(sim_sched *s, int m, int64_t keep_alive, sim_wait *w, int64_t now,
                                   int64_t *delay_ns, struct event_base *base,
                                   void (*cb)(int, short, void *), void *arg);
/* Leaves whatever w is doing (holding, waiting for a slot or a load):
 * frees the slot (handing it to the next waiter) and starts the keep-alive
 * countdown when the model becomes idle. Safe in any phase. */
void sim_sched_leave(sim_sched *s, int m, sim_wait *w, int64_t now);
/* keep_alive 0 with an empty prompt: unload now, or once idle. */
void sim_sched_unload(sim_sched *s, int m, int64_t now);

typedef struct {
    int model;
    bool loading;
    int64_t expires_sec; /* wall clock */
    long expires_nsec;
} sim_ps_entry;

/* Loaded (or loading) models, latest expiry first. now_mono/now_wall_ns
 * are the current monotonic and wall-clock times. Returns the count. */
int sim_sched_ps(sim_sched *s, sim_ps_entry *out, int max, int64_t now_mono, int64_t now_wall_ns);

/* Requests waiting (for a load or a slot) for model m, and in total. */
int sim_sched_queued(sim_sched *s, int m);

#endif
