/* The checks of 'tollgate check' in one table: id, component, title, the
 * checks each one needs (the dependency graph) and, for the PromQL checks,
 * the query. The run (check.c) looks a check up here before running it and
 * skips it when a check it needs did not pass, so the first red line is the
 * one to fix (docs/check.md, "Skipped checks"). Pure: no I/O. */
#ifndef TOLLGATE_CHECK_CATALOG_H
#define TOLLGATE_CHECK_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "check/report.h"

typedef struct {
    const char *id;     /* a check that must pass (or only warn) first */
    const char *reason; /* what its failure means for the dependent check */
} check_need;

typedef struct {
    const char *id;         /* stable, e.g. "gateway.chat"; the JSON "id" */
    check_comp comp;
    const char *title;      /* the line's text */
    check_need needs[2];    /* unused slots have id NULL */
    /* PromQL checks only (promql NULL otherwise): */
    const char *promql;
    bool recorded;          /* the name comes from docker-compose/rules, not from an exporter */
    bool traffic;           /* has data only after the check's own requests were scraped */
    bool gpu;               /* about the GPU exporter: skipped by --skip-gpu */
    double want;            /* NAN: any value; else the first sample must equal it */
} check_def;

/* The table, in run order. */
const check_def *catalog_all(size_t *n);
/* The check with this id, or NULL. */
const check_def *catalog_find(const char *id);
/* Whether check id must be skipped given the results so far in r: a check
 * it needs failed ("<reason> (see: <needed id>)") or was skipped itself (its
 * reason is passed on, so a chain points at the root failure). A needed check
 * that passed or warned, or that has not run, does not block. Writes the
 * reason to why (size n) when blocked. */
bool catalog_blocked(const check_report *r, const char *id, char *why, size_t n);

#endif
