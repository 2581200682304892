/* One request's life on its worker thread's event loop:
 *
 *   arrival -> [fault 500/503/429: answer; hang: wait for the client to go]
 *           -> scheduler: GO | LOADING (timer, ask again) | WAIT (woken by
 *              the thread that frees a slot) | BUSY (503)
 *           -> time to first token (timer) -> one token per token time
 *              (timer), the stream head going out with the first token
 *           -> final chunk, slot released, accounting, log line.
 *
 * Nothing sleeps: every delay is a libevent timer on conn_base(c). With all
 * delays at 0 the whole answer is produced in the handler's call, which is
 * what makes the simulator fast enough never to be the bottleneck. A client
 * that goes away (close callback) releases whatever the job holds. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "sim/internal.h"
#include "util/log.h"

/* Tokens emitted per loop turn when no delay separates them, and output
 * buffered before waiting for the socket to drain. */
#define BATCH_TOKENS 256
#define HIGH_WATER (1 << 20)

static void on_timer(evutil_socket_t fd, short what, void *arg);
static void on_wake(evutil_socket_t fd, short what, void *arg);
static void on_close(conn *c, void *arg);
static void schedule(sim_job *j);
static void step(sim_job *j);

int64_t sim_now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sim_now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sim_created_sec(const sim_ctx *ctx) { return ctx->cfg.fixed_clock ? SIM_FIXED_EPOCH : (int64_t)time(NULL); }

sim_job *sim_job_new(sim_ctx *ctx, conn *c, enum sim_endpoint ep)
{
    sim_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->ctx = ctx;
    j->c = c;
    j->ep = ep;
    j->v1 = ep == SIM_EP_V1_CHAT || ep == SIM_EP_V1_COMPLETIONS || ep == SIM_EP_V1_EMBEDDINGS;
    j->stream = !j->v1 && (ep == SIM_EP_CHAT || ep == SIM_EP_GENERATE); /* Ollama's defaults */
    j->model = -1;
    j->t0 = sim_now_mono();
    j->token_ns = ctx->cfg.token_ns;
    return j;
}

void sim_job_free(sim_job *j)
{
    if (!j)
        return;
    if (j->timer)
        event_free(j->timer);
    if (j->wait.wake)
        event_free(j->wait.wake);
    free(j->input_seeds);
    free(j->model_echo);
    free(j);
}

static const char *method_of(const sim_job *j)
{
    (void)j;
    return "POST"; /* every job endpoint is a POST route */
}

/* Counts what the job served before its last byte is written, so that a
 * client that reads /sim/stats as soon as its response is complete (or a
 * gateway's client, one hop later) always finds it there. */
static void count_served(sim_job *j)
{
    sim_stats_served(j->ctx->stats, j->model, j->prompt_tokens, j->eval_count);
    j->counted = true;
}

/* Ends the job: gives back the scheduler slot, fixes the gauges, logs. */
static void finish(sim_job *j, int status, bool served)
{
    int64_t now = sim_now_mono();
    sim_sched_leave(j->ctx->sched, j->model, &j->wait, now);
    if (j->queued)
        sim_stats_queued(j->ctx->stats, j->model, -1);
    sim_stats_in_flight(j->ctx->stats, j->model, -1);
    if (served && !j->counted)
        sim_stats_served(j->ctx->stats, j->model, j->prompt_tokens, j->eval_count);
    if (!j->ctx->cfg.quiet)
        sim_log_request(j->ctx, method_of(j), sim_endpoint_path(j->ep), j->model_echo, status, served ? j->prompt_tokens : 0,
                        served ? j->eval_count : 0, now - j->t0);
    sim_job_free(j);
}

/* The client went away: whatever the job was doing stops here. */
static void on_close(conn *c, void *arg)
{
    (void)c;
    sim_job *j = arg;
    sim_stats_cancelled(j->ctx->stats, j->model);
    j->c = NULL;
    finish(j, 499, false);
}

/* Before a final response: the conn is about to be done with us. */
static void detach(sim_job *j) { conn_set_close_cb(j->c, NULL, NULL); }

static void fail_now(sim_job *j, int status, const char *msg)
{
    detach(j);
    sim_respond_error(j->c, j->v1, j->stream, status, msg);
    finish(j, status, false);
}

static void arm(sim_job *j, int64_t ns)
{
    if (!j->timer)
        j->timer = evtimer_new(conn_base(j->c), on_timer, j);
    struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)((ns % 1000000000) / 1000)};
    if (!j->timer || evtimer_add(j->timer, &tv) != 0)
        fail_now(j, 500, "tollgate sim: out of memory");
}

enum { PH_LOAD = 1, PH_TTFT, PH_TOKENS, PH_NONSTREAM };
static int phase_of(const sim_job *j) { return j->wait.phase == SIM_WAIT_LOAD ? PH_LOAD : 0; }

static void queued(sim_job *j, bool on)
{
    if (j->queued != on)
        sim_stats_queued(j->ctx->stats, j->model, on ? 1 : -1);
    j->queued = on;
}

/* Writes bytes of a stream, sending the head first. -1: the client is gone
 * (the close callback will not run for us any more; the job is finished). */
static int put(sim_job *j, buf *b)
{
    int rc = 0;
    if (!j->started) {
        j->started = true;
        rc = conn_stream_begin(j->c, 200, sim_stream_ctype(j), NULL);
    }
    if (rc == 0)
        rc = conn_stream_write(j->c, b->data, b->len);
    buf_reset(b);
    if (rc < 0) {
        detach(j);
        sim_stats_cancelled(j->ctx->stats, j->model);
        finish(j, 499, false);
    }
    return rc;
}

static buf *scratch(sim_job *j)
{
    sim_thread *t = conn_thread_ctx(j->c);
    buf_reset(&t->scratch);
    return &t->scratch;
}

/* The slot is ours: embeddings and load/unload answer at once, generation
 * starts its time to first token. */
static void begin(sim_job *j)
{
    queued(j, false);
    j->t_slot = sim_now_mono();
    if (j->load_only) {
        buf *b = scratch(j);
        if (j->ep == SIM_EP_CHAT || j->ep == SIM_EP_GENERATE)
            sim_render_load(j, b, "load");
        else
            sim_render_embed(j, b, j->t_slot);
        detach(j);
        sim_respond_json(j->c, j->v1, 200, b);
        finish(j, 200, false);
        return;
    }
    if (j->ep == SIM_EP_EMBED || j->ep == SIM_EP_EMBEDDINGS || j->ep == SIM_EP_V1_EMBEDDINGS) {
        buf *b = scratch(j);
        sim_render_embed(j, b, sim_now_mono());
        detach(j);
        j->eval_count = 0;
        if (j->ep == SIM_EP_EMBEDDINGS)
            j->prompt_tokens = 0; /* the legacy endpoint reports no counts */
        count_served(j);
        sim_respond_json(j->c, j->v1, 200, b);
        finish(j, 200, true);
        return;
    }
    if (j->fault.kind == SIM_FAULT_SLOW) {
        j->token_ns = (int64_t)j->fault.arg * 1000000;
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_SLOW);
    }
    int64_t ttft = j->ctx->cfg.ttft_ns;
    if (!j->stream) {
        /* Nothing is sent before the end, so one timer covers it all. */
        int64_t total = ttft + (int64_t)(j->eval_count - 1) * j->token_ns;
        if (j->fault.kind == SIM_FAULT_CUT || j->fault.kind == SIM_FAULT_ERROR)
            total = ttft + (int64_t)(j->fault.arg < j->visible ? j->fault.arg : j->visible) * j->token_ns;
        j->t_first = j->t_slot + ttft;
        if (total > 0) {
            arm(j, total);
            return;
        }
        step(j);
        return;
    }
    if (ttft > 0) {
        arm(j, ttft);
        return;
    }
    j->t_first = sim_now_mono();
    step(j);
}

static void non_stream_end(sim_job *j)
{
    int64_t now = sim_now_mono();
    if (j->t_first > now)
        j->t_first = now; /* virtual first-token time: t_slot + ttft */
    switch (j->fault.kind) {
    case SIM_FAULT_CUT:
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_CUT);
        detach(j);
        conn_abort(j->c);
        finish(j, 0, false);
        return;
    case SIM_FAULT_ERROR:
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_ERROR);
        fail_now(j, 500, "an error was encountered while running the model: tollgate-fault error");
        return;
    default: break;
    }
    buf *b = scratch(j);
    sim_render_final(j, b, now);
    size_t len = b->len;
    if (j->fault.kind == SIM_FAULT_MALFORMED) {
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_MALFORMED);
        b->len = len / 2; /* a body cut in the middle of its JSON */
    }
    detach(j);
    if (j->fault.kind != SIM_FAULT_MALFORMED)
        count_served(j);
    sim_respond_json(j->c, j->v1, 200, b);
    finish(j, 200, j->fault.kind != SIM_FAULT_MALFORMED);
}

/* A fault that fires mid-stream, at its token position. Returns true when
 * the job ended (or must stop emitting). */
static bool stream_fault(sim_job *j)
{
    sim_fault *f = &j->fault;
    if (j->fault_fired)
        return false;
    if (f->kind != SIM_FAULT_CUT && f->kind != SIM_FAULT_ERROR && f->kind != SIM_FAULT_MALFORMED)
        return false;
    int at = f->arg < j->visible ? f->arg : j->visible;
    if (j->emitted != at)
        return false;
    j->fault_fired = true;
    sim_stats_fault(j->ctx->stats, j->model, f->kind);
    if (f->kind == SIM_FAULT_CUT) {
        detach(j);
        conn_abort(j->c);
        finish(j, 0, false);
        return true;
    }
    if (f->kind == SIM_FAULT_ERROR) {
        if (!j->started) {
            /* Nothing sent yet: a plain HTTP error, as Ollama does. */
            fail_now(j, 500, "an error was encountered while running the model: tollgate-fault error");
            return true;
        }
        buf *b = scratch(j);
        sim_render_stream_error(j, b);
        if (put(j, b) < 0)
            return true;
        detach(j);
        conn_stream_end(j->c);
        finish(j, 200, false);
        return true;
    }
    buf *b = scratch(j);
    sim_render_malformed(j, b);
    return put(j, b) < 0;
}

static void on_drain(conn *c, void *arg)
{
    (void)c;
    sim_job *j = arg;
    conn_set_drain_cb(c, 0, NULL, NULL);
    step(j);
}

/* Emits tokens until a delay is due, then the final chunk. */
static void step(sim_job *j)
{
    if (!j->stream) {
        non_stream_end(j);
        return;
    }
    for (int n = 0; n < BATCH_TOKENS; n++) {
        if (stream_fault(j))
            return;
        if (j->emitted >= j->visible)
            break;
        buf *b = scratch(j);
        sim_render_token(j, b, j->emitted++);
        if (put(j, b) < 0)
            return;
        if (j->emitted < j->visible || !j->length) {
            /* Another sampled token follows (the EOS one when stopping). */
            if (j->token_ns > 0) {
                arm(j, j->token_ns);
                return;
            }
        }
        if (conn_pending_output(j->c) > HIGH_WATER) {
            conn_set_drain_cb(j->c, HIGH_WATER / 4, on_drain, j);
            return;
        }
    }
    if (j->emitted < j->visible || stream_fault(j)) {
        if (j->emitted < j->visible)
            arm(j, 0); /* let other connections run */
        return;
    }
    buf *b = scratch(j);
    sim_render_final(j, b, sim_now_mono());
    count_served(j); /* the final chunk carries the counts; see count_served */
    if (put(j, b) < 0)
        return;
    detach(j);
    conn_stream_end(j->c);
    finish(j, 200, true);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sim_job *j = arg;
    if (phase_of(j) == PH_LOAD) {
        schedule(j);
        return;
    }
    if (j->stream && j->emitted == 0 && !j->t_first)
        j->t_first = sim_now_mono();
    step(j);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    begin(arg); /* the releasing thread made the slot ours */
}

static void schedule(sim_job *j)
{
    int64_t delay = 0, now = sim_now_mono();
    enum sim_acquire r = sim_sched_acquire(j->ctx->sched, j->model, j->keep_alive, &j->wait, now, &delay,
                                           conn_base(j->c), on_wake, j);
    switch (r) {
    case SIM_GO:
        j->t_runner = now;
        begin(j);
        return;
    case SIM_WAIT:
        j->t_runner = now; /* loaded: the slot wait is not load time */
        queued(j, true);
        return;
    case SIM_LOADING:
        queued(j, true);
        arm(j, delay);
        return;
    case SIM_BUSY:
        queued(j, false);
        fail_now(j, 503, "server busy, please try again.  maximum pending requests exceeded");
        return;
    }
}

void sim_job_run(sim_job *j)
{
    sim_stats_request(j->ctx->stats, j->model);
    sim_stats_in_flight(j->ctx->stats, j->model, 1);
    conn_set_close_cb(j->c, on_close, j);
    j->id_num = (int)(sim_hash(SIM_HASH_INIT, &j, sizeof j) % 999);
    j->created = sim_created_sec(j->ctx);
    switch (j->fault.kind) {
    case SIM_FAULT_500:
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_500);
        fail_now(j, 500, "model runner has unexpectedly stopped, this may be due to resource limitations or an internal "
                         "error, check ollama server logs for details");
        return;
    case SIM_FAULT_503:
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_503);
        fail_now(j, 503, "server busy, please try again.  maximum pending requests exceeded");
        return;
    case SIM_FAULT_429:
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_429);
        fail_now(j, 429, "too many requests, please try again later");
        return;
    case SIM_FAULT_CONTEXT:
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_CONTEXT);
        fail_now(j, 400, "input length exceeds the context length");
        return;
    case SIM_FAULT_HANG:
        /* Holds nothing; ends when the client goes away (on_close). */
        sim_stats_fault(j->ctx->stats, j->model, SIM_FAULT_HANG);
        return;
    default: break;
    }
    if (j->unload) {
        sim_sched_unload(j->ctx->sched, j->model, j->t0);
        buf *b = scratch(j);
        sim_render_load(j, b, "unload");
        detach(j);
        sim_respond_json(j->c, false, 200, b);
        finish(j, 200, false);
        return;
    }
    schedule(j);
}
