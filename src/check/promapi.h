/* Reading Prometheus HTTP API answers (/api/v1/targets, /api/v1/query) for
 * 'tollgate check'. Pure: JSON text in, facts out, no I/O. */
#ifndef TOLLGATE_CHECK_PROMAPI_H
#define TOLLGATE_CHECK_PROMAPI_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int count;             /* active targets of the job */
    int up;                /* how many of them are "up" */
    char health[16];       /* of the worst target: "up", "down", "unknown" */
    char last_error[256];  /* of the worst target */
    char scrape_url[256];  /* of the worst target */
    double age_s;          /* now - lastScrape of the worst target; -1 unknown */
    double interval_s;     /* scrapeInterval of the worst target; -1 unknown */
    int all;               /* active targets of every job: 0 while Prometheus is still discovering */
} prom_target;

/* Summarises the active targets of `job` from a /api/v1/targets answer.
 * now_epoch is the current Unix time (seconds). "Worst" = a down target
 * before an unknown one before an up one, then the oldest scrape.
 * Returns 0 when the job has targets, 1 when it has none, -1 when the JSON
 * is not a successful targets answer (err says why). */
int promapi_target(const char *json, size_t len, const char *job, double now_epoch, prom_target *out, char *err,
                   size_t errlen);

/* Reads a /api/v1/query answer of resultType vector. Stores the number of
 * series in *n and the first one's value in *first (NaN when none).
 * Returns 0, or -1 on an error answer / bad JSON (err says why). */
int promapi_query(const char *json, size_t len, size_t *n, double *first, char *err, size_t errlen);

/* Prometheus durations ("15s", "1m30s", "500ms", "1h"); -1 when invalid. */
double promapi_duration(const char *s);
/* RFC 3339 timestamps as Prometheus writes them
 * ("2024-05-01T10:00:00.123456789Z", "...+02:00"); Unix seconds, or -1. */
double promapi_time(const char *s);

#endif
