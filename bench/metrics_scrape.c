/* Benchmark: record 1M requests over 50 deployments on 2 shards (one
 * thread each), then time metrics_write. Prints the record cost per
 * request and the median / min / max scrape time over N scrapes.
 * Build and run with bench/metrics_scrape.sh (links build/libtollgate_core.a). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"

#define NDEP 50
#define NREQ 1000000
#define NSHARDS 2

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU time of the calling thread: the record figure must not count time
 * the thread spent preempted on a shared machine. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    metrics_shard *s;
    const char **groups;
    int seed;
    int64_t ns;
} job;

static const char *classes[] = {"Ollama.APIConnectionError", "Ollama.Timeout", "BadRequestError"};

static void *record(void *p)
{
    job *j = p;
    uint64_t x = 0x9E3779B97F4A7C15ULL * (uint64_t)(j->seed + 1);
    int64_t t0 = thread_cpu_ns();
    for (int i = 0; i < NREQ / NSHARDS; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift */
        int d = (int)(x % NDEP);
        bool fail = (x >> 8) % 50 == 0;
        bool stream = (x >> 16) % 3 != 0;
        int64_t up = 200000 + (int64_t)((x >> 20) % 2000000);
        int64_t ttft = 5000000 + (int64_t)((x >> 24) % 800000000);
        int64_t dur = ttft + (int64_t)((x >> 32) % 20000000000LL);
        metrics_request q = {.deployment = fail ? -1 : d,
                             .requested_model = j->groups[d],
                             .route = (metrics_route)((x >> 40) % 2),
                             .status = fail ? 502 : 200,
                             .exception_class = fail ? classes[(x >> 44) % 3] : NULL,
                             .exception_status = fail ? 502 : 0,
                             .stream = stream,
                             .prompt_tokens = 20 + (x >> 48) % 2000,
                             .completion_tokens = 1 + (x >> 52) % 1000,
                             .tokens_exact = true,
                             .t_start = 1000000000,
                             .t_upstream_sent = 1000000000 + up,
                             .t_first_token = stream ? 1000000000 + up + ttft : 0,
                             .t_end = 1000000000 + up + dur,
                             .load_ns = 2000000 + (int64_t)((x >> 12) % 100000000),
                             .prompt_eval_ns = 1000000 + (int64_t)((x >> 14) % 500000000),
                             .eval_ns = dur / 2,
                             .total_ns = dur - 1000};
        metrics_inflight_add(j->s, d, 1);
        metrics_attempt a = {.deployment = d, .status = fail ? 0 : 200, .exception_class = q.exception_class};
        metrics_record_attempt(j->s, &a);
        metrics_record(j->s, &q);
        metrics_inflight_add(j->s, d, -1);
    }
    j->ns = thread_cpu_ns() - t0;
    return NULL;
}

int main(int argc, char **argv)
{
    int nscrapes = argc > 1 ? atoi(argv[1]) : 51;
    bool created = argc > 2 && strcmp(argv[2], "created") == 0;
    static char names[NDEP][4][64];
    metrics_deployment_def defs[NDEP];
    const char *groups[NDEP];
    for (int i = 0; i < NDEP; i++) {
        snprintf(names[i][0], 64, "model-group-%02d", i);
        snprintf(names[i][1], 64, "ollama/model-%02d:7b-instruct-q4_K_M", i);
        snprintf(names[i][2], 64, "deployment-%02d", i);
        snprintf(names[i][3], 64, "http://10.0.0.%d:11434", i % 2 + 1);
        defs[i] = (metrics_deployment_def){names[i][0], names[i][1], names[i][2], names[i][3], "ollama"};
        groups[i] = names[i][0];
    }
    metrics_config cfg = {.deployments = defs,
                          .ndeployments = NDEP,
                          .nshards = NSHARDS,
                          .hashed_api_key = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
                          .api_key_alias = "bench",
                          .emit_created = created};
    char err[128];
    metrics_registry *r = metrics_new(&cfg, err, sizeof err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    job jobs[NSHARDS];
    pthread_t th[NSHARDS];
    for (int i = 0; i < NSHARDS; i++) {
        jobs[i] = (job){metrics_shard_get(r, i), groups, i, 0};
        pthread_create(&th[i], NULL, record, &jobs[i]);
    }
    for (int i = 0; i < NSHARDS; i++)
        pthread_join(th[i], NULL);
    double rec_ns = 0;
    for (int i = 0; i < NSHARDS; i++)
        rec_ns += (double)jobs[i].ns;
    rec_ns /= NREQ; /* thread-time per request (record + attempt + 2 inflight) */

    int64_t *t = calloc((size_t)nscrapes, sizeof *t);
    buf out;
    buf_init(&out);
    size_t bytes = 0, lines = 0;
    for (int i = 0; i < nscrapes; i++) {
        buf_reset(&out);
        int64_t t0 = now_ns();
        metrics_write(r, &out);
        t[i] = now_ns() - t0;
        bytes = out.len;
    }
    for (size_t i = 0; i < out.len; i++)
        lines += out.data[i] == '\n';
    qsort(t, (size_t)nscrapes, sizeof *t, cmp_i64);
    printf("requests=%d deployments=%d shards=%d created=%s\n", NREQ, NDEP, NSHARDS, created ? "on" : "off");
    printf("record: %.0f ns CPU per request (record + attempt + 2x inflight, incl. input generation)\n", rec_ns);
    printf("scrape: median %.3f ms  min %.3f ms  max %.3f ms  over %d scrapes; %zu bytes, %zu lines\n",
           (double)t[nscrapes / 2] / 1e6, (double)t[0] / 1e6, (double)t[nscrapes - 1] / 1e6, nscrapes, bytes, lines);
    buf_free(&out);
    free(t);
    metrics_free(r);
    return 0;
}
