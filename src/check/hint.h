/* Likely cause and fix for a failed check, taken from the guide's
 * "Troubleshooting" tables (docs/check.md lists them). Pure functions: the
 * same failure always gives the same advice, so they are unit-tested. */
#ifndef TOLLGATE_CHECK_HINT_H
#define TOLLGATE_CHECK_HINT_H

#include <stdbool.h>

#include "util/probe.h"

typedef enum { COMP_OLLAMA, COMP_GATEWAY, COMP_GPU, COMP_PROMETHEUS } check_comp;

/* How the stack runs, which decides what "start it" and "read its log" mean:
 * host (make run, or the systemd units) or Docker (docker compose). See
 * mode.h for how it is chosen. */
typedef enum { MODE_HOST, MODE_DOCKER } check_mode;

typedef struct {
    const char *cause; /* never NULL */
    const char *fix;   /* never NULL */
} check_hint;

/* Name used in output and JSON: "ollama", "gateway", "gpu", "prometheus". */
const char *hint_comp_name(check_comp c);
/* "host" or "docker". */
const char *hint_mode_name(check_mode m);
/* A probe of component c failed with err (status = HTTP status or 0). */
check_hint hint_for_probe(check_mode m, check_comp c, probe_err err, long status);
/* A Prometheus target of `job` is not up; last_error is Prometheus's
 * lastError text ("" when none). */
check_hint hint_for_scrape_error(check_mode m, const char *job, const char *last_error);
/* Prometheus has no target for job. */
check_hint hint_for_missing_job(check_mode m, const char *job);
/* The target is up but its last scrape is older than twice the interval. */
check_hint hint_for_stale_scrape(void);
/* A PromQL query returned no series. recorded: the name comes from the
 * shipped recording rules (docker-compose/rules). */
check_hint hint_for_empty_query(check_mode m, const char *query, int recorded);
/* A completion succeeded but the gateway's token counters did not move. */
check_hint hint_for_static_counters(void);
/* The GPU exporter runs but sees no GPU (tollgate_gpu_nvml_up 0). One cause
 * for the exporter's check and the DCGM_* queries, so it is said once. */
check_hint hint_for_no_gpu(check_mode m);
/* A chat stream ended early or is not server-sent events. */
check_hint hint_for_broken_stream(check_mode m);
/* Whether two hints are the same advice (the report says it once). */
bool hint_same(const check_hint *a, const check_hint *b);

#endif
