/* Per-token cost of the gateway's stream translation (see bench/translate.sh).
 * Prints the median of 3 runs for each case, in ns per token/event. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "translate/translate.h"
#include "util/buf.h"

#define N 200000

static const char LINE[] = "{\"model\":\"llama3.2\",\"created_at\":\"2026-08-21T18:00:00.116031Z\",\"message\":{\"role\":"
                           "\"assistant\",\"content\":\" sky\"},\"done\":false}\n";
/* The same token with an (empty) "tool_calls" member: not taken by the
 * fast path, so this measures the jansson path. */
static const char SLOW_LINE[] = "{\"model\":\"llama3.2\",\"created_at\":\"2026-08-21T18:00:00.116031Z\",\"message\":"
                                "{\"role\":\"assistant\",\"content\":\" sky\",\"tool_calls\":[]},\"done\":false}\n";
static const char EVENT[] = "data: {\"id\":\"chatcmpl-271\",\"object\":\"chat.completion.chunk\",\"created\":1755800000,"
                            "\"model\":\"llama3.2\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,"
                            "\"delta\":{\"content\":\" sky\"},\"finish_reason\":null}]}\n\n";

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double stream_case(tr_source src, const char *unit, size_t unit_len)
{
    tr_request_info info = {.stream = true, .include_usage = true};
    tr_stream *t = tr_stream_new(TR_CHAT, src, &info, "my-llama");
    buf out;
    buf_init(&out);
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
        buf_reset(&out); /* the gateway hands out's bytes to the socket */
        if (tr_stream_feed(t, unit, unit_len, &out) < 0)
            abort();
    }
    double dt = (now_ns() - t0) / N;
    buf_free(&out);
    tr_stream_free(t);
    return dt;
}

static double parse_only(void)
{
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
        json_t *j = json_loadb(LINE, sizeof LINE - 2, 0, NULL);
        json_decref(j);
    }
    return (now_ns() - t0) / N;
}

/* Build one chat.completion.chunk with buf appends (what translate does). */
static double build_buf(void)
{
    buf b;
    buf_init(&b);
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
        buf_reset(&b);
        buf_puts(&b, "data: {\"id\":\"chatcmpl-0123456789abcdef01234567\",\"object\":\"chat.completion.chunk\","
                     "\"created\":1755800000,\"model\":");
        buf_json_str(&b, "my-llama", 8);
        buf_puts(&b, ",\"choices\":[{\"index\":0,\"delta\":{\"content\":");
        buf_json_str(&b, " sky", 4);
        buf_puts(&b, "},\"finish_reason\":null}]}\n\n");
    }
    double dt = (now_ns() - t0) / N;
    buf_free(&b);
    return dt;
}

/* The same chunk built as a jansson tree and dumped. */
static double build_jansson(void)
{
    char out[512];
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
        json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:[{s:i,s:{s:s},s:n}]}", "id", "chatcmpl-0123456789abcdef01234567",
                              "object", "chat.completion.chunk", "created", (json_int_t)1755800000, "model",
                              "my-llama", "choices", "index", 0, "delta", "content", " sky", "finish_reason");
        size_t n = json_dumpb(o, out, sizeof out, JSON_COMPACT);
        if (!n)
            abort();
        json_decref(o);
    }
    return (now_ns() - t0) / N;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char l[256];
    long v = 0;
    while (f && fgets(l, sizeof l, f))
        if (!strncmp(l, "VmRSS:", 6))
            v = atol(l + 6);
    if (f)
        fclose(f);
    return v;
}

/* Memory held per stream in flight: 10,000 streams, each mid-way through a
 * line (so the splitter holds a partial line). */
static double bytes_per_stream(void)
{
    enum { S = 10000 };
    static tr_stream *ts[S];
    tr_request_info info = {.stream = true, .include_usage = true};
    buf out;
    buf_init(&out);
    long before = rss_kb();
    for (int i = 0; i < S; i++) {
        ts[i] = tr_stream_new(TR_CHAT, TR_SRC_OLLAMA, &info, "my-llama");
        buf_reset(&out);
        tr_stream_feed(ts[i], LINE, sizeof LINE - 1, &out);
        tr_stream_feed(ts[i], LINE, 40, &out);
    }
    long after = rss_kb();
    for (int i = 0; i < S; i++)
        tr_stream_free(ts[i]);
    buf_free(&out);
    return (after - before) * 1024.0 / S;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MEDIAN3(expr)                                                                                                 \
    ({                                                                                                                \
        double v_[3];                                                                                                 \
        for (int r_ = 0; r_ < 3; r_++)                                                                                \
            v_[r_] = (expr);                                                                                          \
        qsort(v_, 3, sizeof v_[0], cmp);                                                                              \
        v_[1];                                                                                                        \
    })

int main(void)
{
    printf("ollama ndjson line -> openai chunk (tr_stream_feed): %7.0f ns/token\n",
           MEDIAN3(stream_case(TR_SRC_OLLAMA, LINE, sizeof LINE - 1)));
    printf("ollama ndjson line, jansson path (tr_stream_feed):   %7.0f ns/token\n",
           MEDIAN3(stream_case(TR_SRC_OLLAMA, SLOW_LINE, sizeof SLOW_LINE - 1)));
    printf("openai sse event passthrough (tr_stream_feed):       %7.0f ns/event\n",
           MEDIAN3(stream_case(TR_SRC_OPENAI, EVENT, sizeof EVENT - 1)));
    printf("  of which json_loadb of the ndjson line:            %7.0f ns\n", MEDIAN3(parse_only()));
    printf("  chunk output built with buf appends:               %7.0f ns\n", MEDIAN3(build_buf()));
    printf("  chunk output built with jansson pack+dumpb:        %7.0f ns\n", MEDIAN3(build_jansson()));
    printf("memory per stream in flight (10,000 streams):        %7.0f bytes\n", bytes_per_stream());
    return 0;
}
