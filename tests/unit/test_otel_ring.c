/* otel rings: a full ring drops and counts, order is kept across threads,
 * and otel_submit never blocks (bad index, after shutdown, dead collector). */
#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otel/otel_int.h"

static void test_full_ring_drops_and_counts(void **state)
{
    otel_ring r;
    assert_int_equal(otel_ring_init(&r, 5), 0); /* rounded up to 8 */
    otel_span sp, out;
    otel_span_init(&sp);
    for (int i = 0; i < 8; i++) {
        sp.input_tokens = i;
        assert_true(otel_ring_push(&r, &sp));
    }
    assert_false(otel_ring_push(&r, &sp));
    assert_false(otel_ring_push(&r, &sp));
    assert_int_equal(atomic_load(&r.dropped), 2);
    for (int i = 0; i < 8; i++) {
        assert_true(otel_ring_pop(&r, &out));
        assert_int_equal(out.input_tokens, i);
    }
    assert_false(otel_ring_pop(&r, &out));
    assert_true(otel_ring_push(&r, &sp)); /* room again */
    otel_ring_free(&r);
}

#define N_SPSC 200000
static void *producer(void *arg)
{
    otel_ring *r = arg;
    otel_span sp;
    otel_span_init(&sp);
    for (int64_t i = 0; i < N_SPSC; i++) {
        sp.input_tokens = i;
        sp.output_tokens = -i;
        otel_ring_push(r, &sp); /* drops are fine; order is what we check */
    }
    return NULL;
}

static void test_spsc_order_across_threads(void **state)
{
    otel_ring r;
    assert_int_equal(otel_ring_init(&r, 64), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
    int64_t last = -1, got = 0;
    otel_span out;
    for (;;) {
        if (otel_ring_pop(&r, &out)) {
            assert_true(out.input_tokens > last);
            assert_int_equal(out.output_tokens, -out.input_tokens); /* never half-copied */
            last = out.input_tokens;
            got++;
            if (last == N_SPSC - 1)
                break;
        } else if (atomic_load(&r.head) - atomic_load(&r.tail) == 0 && got + (int64_t)atomic_load(&r.dropped) ==
                                                                          N_SPSC) {
            break; /* the last one was dropped */
        }
    }
    pthread_join(t, NULL);
    while (otel_ring_pop(&r, &out))
        got++;
    assert_int_equal(got + (int64_t)atomic_load(&r.dropped), N_SPSC);
    otel_ring_free(&r);
}

static const char *env_dead(void *ud, const char *name)
{
    /* port 9 (discard) on loopback: nothing listens in the test sandbox */
    if (!strcmp(name, "OTEL_EXPORTER_OTLP_ENDPOINT"))
        return "http://127.0.0.1:9";
    if (!strcmp(name, "OTEL_BSP_MAX_QUEUE_SIZE"))
        return "64";
    if (!strcmp(name, "OTEL_METRICS_EXPORTER"))
        return "none";
    return NULL;
}

static void test_submit_never_blocks_and_counts(void **state)
{
    char err[256];
    otel *o = NULL;
    otel_settings s = {.workers = 2, .getenv = env_dead};
    assert_int_equal(otel_new(&s, &o, err, sizeof err, NULL, 0), 0);
    assert_non_null(o);
    otel_span sp;
    otel_start(o, NULL, 0, NULL, 0, false, 1, &sp);
    assert_true(sp.sampled);
    int n = 5000, ok = 0;
    for (int i = 0; i < n; i++)
        ok += otel_submit(o, i & 1, &sp) == 0;
    assert_int_equal(otel_submit(o, 2, &sp), -1); /* no such worker */
    assert_int_equal(otel_submit(o, -1, &sp), -1);
    assert_true(ok <= n);
    otel_shutdown(o);
    assert_int_equal(otel_submit(o, 0, &sp), -1);
    otel_stats st;
    otel_get_stats(o, &st);
    /* nothing reached a collector, so every submit is accounted as dropped */
    assert_int_equal(st.exported_spans, 0);
    assert_int_equal(st.dropped_spans, (uint64_t)n + 3);
    assert_int_equal(otel_dropped_spans(o), st.dropped_spans);
    otel_free(o);
    assert_int_equal(otel_submit(NULL, 0, &sp), -1);
    assert_int_equal(otel_dropped_spans(NULL), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_ring_drops_and_counts),
        cmocka_unit_test(test_spsc_order_across_threads),
        cmocka_unit_test(test_submit_never_blocks_and_counts),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
