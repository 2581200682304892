/* 'tollgate check': the guide's "End-to-End Validation" and
 * "Troubleshooting" as one command. It probes Ollama, the gateway, the GPU
 * exporter and Prometheus in order, sends one plain and one streaming chat
 * completion through the gateway, and reports each check with the measured
 * value, or with the likely cause and fix when it fails (docs/check.md). */
#ifndef TOLLGATE_CHECK_H
#define TOLLGATE_CHECK_H

#include <stdbool.h>

#include "check/report.h"

typedef struct {
    const char *ollama;     /* base URLs, no trailing slash needed */
    const char *gateway;
    const char *gpu;
    const char *prometheus;
    const char *model;      /* NULL: the first model the gateway lists */
    const char *api_key;    /* NULL: none */
    double timeout_s;       /* per probe (default 5) */
    double chat_timeout_s;  /* per chat completion (default 60: a cold model load is slow) */
    double deadline_s;      /* whole run (default 90) */
    bool skip_gpu;
    check_mode mode;        /* which hints: host (make run, systemd) or Docker */
} check_opts;

/* What a run tells its caller as it goes (any member may be NULL). */
typedef struct {
    /* A result was added: r->items[i]. */
    void (*item)(void *ctx, const check_report *r, size_t i);
    /* A phase begins: what it waits for, and for how long at most (0:
     * unknown). what NULL: the run is over. */
    void (*phase)(void *ctx, const char *what, double timeout_s);
    void *ctx;
} check_events;

/* Fills opts with the guide's defaults (localhost, ports 11434, 4000, 9400,
 * 9090). */
void check_opts_default(check_opts *o);
/* Runs every check in the order of the catalogue (catalog.h) and appends the
 * results to r, skipping those whose needed checks did not pass. ev may be
 * NULL. Needs probe_global_init(). Returns 0, or -1 when out of memory. */
int check_run(const check_opts *o, const check_events *ev, check_report *r);

/* Entry point of 'tollgate check'; argv[0] is "check". Exit code: 0 when
 * every check passed (warnings allowed), 1 when one failed, 2 on bad usage. */
int check_main(int argc, char **argv);

#endif
