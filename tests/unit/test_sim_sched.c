/* Simulator scheduler: slots, load queue and 503, keep-alive expiry. Time
 * is passed in explicitly, so nothing here waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "sim/sched.h"

#define MS 1000000LL

static int woken;
static void on_wake(int fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    woken++;
}

static sim_sched *make(int parallel, int max_queue, int64_t ka, int64_t load)
{
    static const char *const names[] = {"llama3.2:3b", "gemma3:1b", "nomic-embed-text", "LLAMA3.2:3b"};
    sim_sched_cfg cfg = {parallel, max_queue, ka, load};
    return sim_sched_new(&cfg, names, 4);
}

static void test_registry(void **st)
{
    (void)st;
    sim_sched *s = make(1, 4, 300000 * MS, 0);
    assert_non_null(s);
    assert_int_equal(sim_sched_model_count(s), 3); /* duplicate dropped */
    assert_int_equal(sim_sched_find(s, "Llama3.2:3B", 11), 0);
    assert_int_equal(sim_sched_find(s, "nomic-embed-text", 16), 2);
    assert_string_equal(sim_sched_model(s, 2)->name, "nomic-embed-text:latest");
    assert_true(sim_sched_model(s, 2)->embedding);
    assert_false(sim_sched_model(s, 0)->embedding);
    assert_int_equal(strlen(sim_sched_model(s, 0)->digest), 64);
    assert_int_equal(sim_sched_find(s, "llama3.2", 8), -1); /* :latest implied */
    sim_sched_free(s);
}

static void test_slots_and_handoff(void **st)
{
    (void)st;
    struct event_base *base = event_base_new();
    sim_sched *s = make(2, 4, 300000 * MS, 0);
    sim_wait a = {0}, b = {0}, c = {0};
    int64_t d = 0, now = 1000 * MS;
    assert_int_equal(sim_sched_acquire(s, 0, SIM_KA_UNSET, &a, now, &d, base, on_wake, NULL), SIM_GO);
    assert_int_equal(sim_sched_acquire(s, 0, SIM_KA_UNSET, &b, now, &d, base, on_wake, NULL), SIM_GO);
    assert_int_equal(sim_sched_acquire(s, 0, SIM_KA_UNSET, &c, now, &d, base, on_wake, NULL), SIM_WAIT);
    assert_int_equal(sim_sched_queued(s, 0), 1);
    woken = 0;
    sim_sched_leave(s, 0, &a, now);
    assert_int_equal(c.phase, SIM_WAIT_HOLD); /* the slot went to c */
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(woken, 1);
    assert_int_equal(sim_sched_queued(s, 0), 0);
    sim_sched_leave(s, 0, &b, now);
    sim_sched_leave(s, 0, &c, now);
    event_free(c.wake);
    sim_sched_free(s);
    event_base_free(base);
}

static void test_load_queue_and_busy(void **st)
{
    (void)st;
    struct event_base *base = event_base_new();
    sim_sched *s = make(1, 2, 300000 * MS, 500 * MS);
    sim_wait a = {0}, b = {0}, c = {0};
    int64_t d = 0, now = 1000 * MS;
    assert_int_equal(sim_sched_acquire(s, 0, SIM_KA_UNSET, &a, now, &d, NULL, on_wake, NULL), SIM_LOADING);
    assert_true(d == 500 * MS);
    /* Loads run one at a time: the second model waits for the first. */
    assert_int_equal(sim_sched_acquire(s, 1, SIM_KA_UNSET, &b, now, &d, NULL, on_wake, NULL), SIM_LOADING);
    assert_true(d == 1000 * MS);
    assert_int_equal(sim_sched_acquire(s, 0, SIM_KA_UNSET, &c, now, &d, NULL, on_wake, NULL), SIM_BUSY);
    /* ps shows loading models. */
    sim_ps_entry e[4];
    assert_int_equal(sim_sched_ps(s, e, 4, now, 1795600000LL * 1000000000), 2);
    /* After the load, asking again holds the slot and frees the place. */
    assert_int_equal(sim_sched_acquire(s, 0, SIM_KA_UNSET, &a, now + 500 * MS, &d, NULL, on_wake, NULL), SIM_GO);
    assert_int_equal(sim_sched_acquire(s, 0, SIM_KA_UNSET, &c, now + 500 * MS, &d, base, on_wake, NULL), SIM_WAIT);
    sim_sched_leave(s, 0, &c, now + 500 * MS); /* a waiter may leave */
    sim_sched_leave(s, 0, &a, now + 600 * MS);
    sim_sched_leave(s, 1, &b, now + 600 * MS); /* gave up while loading */
    assert_non_null(c.wake);
    event_free(c.wake);
    sim_sched_free(s);
    event_base_free(base);
}

static void test_keep_alive(void **st)
{
    (void)st;
    sim_sched *s = make(1, 4, 1000 * MS, 0);
    sim_wait a = {0};
    int64_t d = 0, now = 1000 * MS, wall = 1795600000LL * 1000000000;
    sim_ps_entry e[4];
    assert_int_equal(sim_sched_ps(s, e, 4, now, wall), 0);
    assert_int_equal(sim_sched_acquire(s, 0, SIM_KA_UNSET, &a, now, &d, NULL, on_wake, NULL), SIM_GO);
    sim_sched_leave(s, 0, &a, now);
    assert_int_equal(sim_sched_ps(s, e, 4, now + 999 * MS, wall), 1);
    assert_int_equal(sim_sched_ps(s, e, 4, now + 1000 * MS, wall), 0); /* expired */
    /* keep_alive 0 on the request: unloaded as soon as idle. */
    assert_int_equal(sim_sched_acquire(s, 0, 0, &a, now, &d, NULL, on_wake, NULL), SIM_GO);
    assert_int_equal(sim_sched_ps(s, e, 4, now, wall), 1);
    sim_sched_leave(s, 0, &a, now);
    assert_int_equal(sim_sched_ps(s, e, 4, now, wall), 0);
    /* Negative: forever, expires_at centuries ahead. */
    assert_int_equal(sim_sched_acquire(s, 1, -1, &a, now, &d, NULL, on_wake, NULL), SIM_GO);
    sim_sched_leave(s, 1, &a, now);
    assert_int_equal(sim_sched_ps(s, e, 4, now + 1000000 * MS, wall), 1);
    assert_true(e[0].expires_sec > 1795600000LL + 9000000000LL);
    sim_sched_unload(s, 1, now);
    assert_int_equal(sim_sched_ps(s, e, 4, now, wall), 0);
    sim_sched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_slots_and_handoff),
        cmocka_unit_test(test_load_queue_and_busy),
        cmocka_unit_test(test_keep_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
