/* Test-only: submits a fixed set of spans through the real exporter to
 * whatever the OTEL_* environment names, then shuts down and prints its
 * statistics as one JSON line. Driven by tests/e2e/otel-encode.test.mjs.
 *   otel_emit [N]   N spans (default 3: chat ok, chat error, embeddings) */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otel/otel.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[512], warn[2048];
    otel *o = NULL;
    otel_settings s = {.workers = 2, .litellm_callback = getenv("EMIT_LITELLM") != NULL};
    if (otel_new(&s, &o, err, sizeof err, warn, sizeof warn) < 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (warn[0])
        fputs(warn, stderr);
    if (!o) {
        fprintf(stderr, "otel_emit: not configured\n");
        return 3;
    }
    const char *tp = getenv("EMIT_TRACEPARENT");
    uint64_t t0 = now_ns(), max_submit_ns = 0;
    for (int i = 0; i < n; i++) {
        otel_span sp;
        int kind = i % 3;
        otel_start(o, tp, tp ? strlen(tp) : 0, "vendor=abc", 10, kind == 0, 1700000000000000000ULL + (uint64_t)i, &sp);
        sp.end_ns = sp.start_ns + 1500000000ULL; /* 1.5 s */
        sp.client_start_ns = sp.start_ns + 1000000;
        sp.client_end_ns = sp.end_ns - 1000000;
        strcpy(sp.provider, "ollama");
        strcpy(sp.server_address, "127.0.0.1");
        sp.server_port = 11434;
        sp.http_status = 200;
        if (kind == 2) {
            sp.op = OTEL_OP_EMBEDDINGS;
            strcpy(sp.request_model, "nomic-embed-text");
            strcpy(sp.response_model, "nomic-embed-text");
            strcpy(sp.http_route, "/v1/embeddings");
            sp.input_tokens = 7;
        } else {
            strcpy(sp.request_model, "llama3");
            strcpy(sp.response_model, "llama3:8b");
            strcpy(sp.http_route, "/v1/chat/completions");
            sp.max_tokens = 64;
            sp.temperature = 0.5;
            sp.top_p = 0.9;
            sp.stream = true;
            sp.ttft_s = 0.05;
            sp.queue_wait_s = 0.001;
            sp.load_s = 0.25;
            sp.input_tokens = 12;
            sp.output_tokens = 30;
            strcpy(sp.finish_reasons[0], "stop");
            sp.n_finish_reasons = 1;
        }
        if (kind == 1) {
            strcpy(sp.error_type, "upstream_timeout");
            sp.http_status = 504;
            sp.output_tokens = -1;
            sp.input_tokens = -1;
            sp.n_finish_reasons = 0;
        }
        uint64_t a = now_ns();
        otel_submit(o, i & 1, &sp);
        uint64_t d = now_ns() - a;
        if (d > max_submit_ns)
            max_submit_ns = d;
    }
    uint64_t submit_ns = now_ns() - t0;
    /* EMIT_WAIT_EXPORTED=1: let the exporter thread do its scheduled
     * exports (with retries) before shutting down; waits on its counters,
     * at most 30 s. */
    if (getenv("EMIT_WAIT_EXPORTED")) {
        otel_stats st;
        for (int i = 0; i < 600; i++) {
            otel_get_stats(o, &st);
            if (st.exported_spans + st.dropped_spans >= (uint64_t)n && st.metric_exports > 0)
                break;
            nanosleep(&(struct timespec){0, 50000000}, NULL);
        }
    }
    otel_shutdown(o);
    otel_stats st;
    otel_get_stats(o, &st);
    printf("{\"submitted\":%d,\"exported\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"errors\":%" PRIu64
           ",\"retries\":%" PRIu64 ",\"metric_exports\":%" PRIu64 ",\"submit_ns\":%" PRIu64
           ",\"max_submit_ns\":%" PRIu64 "}\n",
           n, st.exported_spans, st.dropped_spans, st.export_errors, st.retries, st.metric_exports, submit_ns,
           max_submit_ns);
    otel_free(o);
    curl_global_cleanup();
    return 0;
}
