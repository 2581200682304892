/* The results of one 'tollgate check' run and their two renderings: lines
 * for people (✓/✗ with the measured value, and cause + fix under each ✗) and
 * JSON for machines. Pure: no I/O. */
#ifndef TOLLGATE_CHECK_REPORT_H
#define TOLLGATE_CHECK_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "check/hint.h"
#include "util/buf.h"

typedef enum { CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_SKIP } check_status;

typedef struct {
    char *id;         /* stable, e.g. "gateway.chat" */
    check_comp comp;
    check_status status;
    char *title;      /* what was checked */
    char *detail;     /* measured value, or what went wrong */
    check_hint hint;  /* for WARN and FAIL; static strings */
    bool has_hint;
    double ms;        /* time the probe took; < 0 when not measured */
} check_item;

typedef struct {
    check_item *items;
    size_t n, cap;
} check_report;

void report_init(check_report *r);
void report_free(check_report *r);
/* Adds one result; detail is printf-style. hint may be NULL. Returns the
 * item (valid until the next add) or NULL when out of memory. */
check_item *report_add(check_report *r, const char *id, check_comp comp, check_status st, const char *title,
                       double ms, const check_hint *hint, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
size_t report_count(const check_report *r, check_status st);
/* 0 when nothing failed (warnings and skips allowed), else 1. */
int report_exit_code(const check_report *r);
typedef struct {
    bool utf8;  /* ✓/✗/!/-, else OK/FAIL/WARN/SKIP */
    bool color; /* ANSI colours (the caller decides: a terminal, NO_COLOR, --color) */
} report_style;

/* The lines of item i, as soon as it is known (items stream out while the
 * run goes on): a component heading when i starts a new component, the
 * line, and for WARN/FAIL its cause and fix, said once: a later item with the
 * same hint gets "cause: as for <id> above" instead. A skipped item reads
 * "skipped: <why>". */
void report_text_item(const check_report *r, size_t i, buf *out, const report_style *s);
/* The closing summary line ("OK: ..." or "FAILED: ..."), after a blank line. */
void report_text_summary(const check_report *r, buf *out, const report_style *s);
/* Every item, then the summary. */
void report_text(const check_report *r, buf *out, const report_style *s);
/* {"ok":bool,"passed":n,"warnings":n,"failed":n,"skipped":n,"checks":[...]} */
void report_json(const check_report *r, buf *out);
const char *report_status_name(check_status st);

#endif
