#include "check/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void report_init(check_report *r) { memset(r, 0, sizeof *r); }

void report_free(check_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].id);
        free(r->items[i].title);
        free(r->items[i].detail);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

check_item *report_add(check_report *r, const char *id, check_comp comp, check_status st, const char *title,
                       double ms, const check_hint *hint, const char *fmt, ...)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        check_item *it = realloc(r->items, cap * sizeof *it);
        if (!it)
            return NULL;
        r->items = it;
        r->cap = cap;
    }
    check_item *it = &r->items[r->n];
    memset(it, 0, sizeof *it);
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&it->detail, fmt, ap);
    va_end(ap);
    it->id = strdup(id);
    it->title = strdup(title);
    if (n < 0 || !it->id || !it->title) {
        if (n >= 0)
            free(it->detail);
        free(it->id);
        free(it->title);
        return NULL;
    }
    it->comp = comp;
    it->status = st;
    it->ms = ms;
    if (hint) {
        it->hint = *hint;
        it->has_hint = true;
    }
    r->n++;
    return it;
}

size_t report_count(const check_report *r, check_status st)
{
    size_t c = 0;
    for (size_t i = 0; i < r->n; i++)
        c += r->items[i].status == st;
    return c;
}

int report_exit_code(const check_report *r) { return report_count(r, CHECK_FAIL) ? 1 : 0; }

const char *report_status_name(check_status st)
{
    switch (st) {
    case CHECK_PASS: return "pass";
    case CHECK_WARN: return "warn";
    case CHECK_FAIL: return "fail";
    case CHECK_SKIP: return "skip";
    }
    return "?";
}

static const char *mark(check_status st, bool utf8)
{
    switch (st) {
    case CHECK_PASS: return utf8 ? "\xE2\x9C\x93" : "OK  ";   /* ✓ */
    case CHECK_WARN: return utf8 ? "!" : "WARN";
    case CHECK_FAIL: return utf8 ? "\xE2\x9C\x97" : "FAIL";   /* ✗ */
    case CHECK_SKIP: return utf8 ? "-" : "SKIP";
    }
    return "?";
}

/* SGR colours: green, yellow, red, dim; bold headings. */
static const char *color_of(check_status st)
{
    switch (st) {
    case CHECK_PASS: return "\033[32m";
    case CHECK_WARN: return "\033[33m";
    case CHECK_FAIL: return "\033[31m";
    case CHECK_SKIP: return "\033[2m";
    }
    return "";
}
#define SGR_BOLD "\033[1m"
#define SGR_OFF "\033[0m"

static const char *comp_title(check_comp c)
{
    switch (c) {
    case COMP_OLLAMA: return "Ollama";
    case COMP_GATEWAY: return "Gateway (tollgate serve / LiteLLM)";
    case COMP_GPU: return "GPU exporter (tollgate gpu / dcgm-exporter)";
    case COMP_PROMETHEUS: return "Prometheus";
    }
    return "?";
}

static bool shows_hint(const check_item *it)
{
    return it->has_hint && (it->status == CHECK_FAIL || it->status == CHECK_WARN);
}

void report_text_item(const check_report *r, size_t i, buf *out, const report_style *s)
{
    const check_item *it = &r->items[i];
    if (i == 0 || r->items[i - 1].comp != it->comp)
        buf_printf(out, "%s%s%s%s\n", i == 0 ? "" : "\n", s->color ? SGR_BOLD : "", comp_title(it->comp),
                   s->color ? SGR_OFF : "");
    const char *on = s->color ? color_of(it->status) : "", *off = s->color ? SGR_OFF : "";
    buf_printf(out, "  %s%s%s %s", on, mark(it->status, s->utf8), it->status == CHECK_SKIP ? "" : off, it->title);
    if (it->status == CHECK_SKIP)
        buf_printf(out, ": skipped: %s%s", it->detail, off);
    else if (it->detail[0])
        buf_printf(out, ": %s", it->detail);
    if (it->ms >= 0)
        buf_printf(out, " (%.1f ms)", it->ms);
    buf_putc(out, '\n');
    if (!shows_hint(it))
        return;
    /* One cause, said once: point back at the first check that had it. */
    for (size_t j = 0; j < i; j++) {
        if (shows_hint(&r->items[j]) && hint_same(&r->items[j].hint, &it->hint)) {
            buf_printf(out, "      cause: as for %s above\n", r->items[j].id);
            return;
        }
    }
    buf_printf(out, "      %scause:%s %s\n", on, off, it->hint.cause);
    buf_printf(out, "      %sfix:%s   %s\n", on, off, it->hint.fix);
}

void report_text_summary(const check_report *r, buf *out, const report_style *s)
{
    size_t f = report_count(r, CHECK_FAIL), w = report_count(r, CHECK_WARN), p = report_count(r, CHECK_PASS),
           k = report_count(r, CHECK_SKIP);
    const char *on = s->color ? (f ? SGR_BOLD "\033[31m" : SGR_BOLD "\033[32m") : "", *off = s->color ? SGR_OFF : "";
    buf_printf(out, "\n%s%s%s: %zu passed, %zu failed, %zu warnings, %zu skipped\n", on, f ? "FAILED" : "OK", off, p, f,
               w, k);
}

void report_text(const check_report *r, buf *out, const report_style *s)
{
    for (size_t i = 0; i < r->n; i++)
        report_text_item(r, i, out, s);
    report_text_summary(r, out, s);
}

static void json_kv_str(buf *out, const char *k, const char *v)
{
    buf_json_str(out, k, strlen(k));
    buf_putc(out, ':');
    if (v)
        buf_json_str(out, v, strlen(v));
    else
        buf_puts(out, "null");
}

void report_json(const check_report *r, buf *out)
{
    buf_printf(out, "{\"ok\":%s,\"passed\":%zu,\"warnings\":%zu,\"failed\":%zu,\"skipped\":%zu,\"checks\":[",
               report_exit_code(r) == 0 ? "true" : "false", report_count(r, CHECK_PASS),
               report_count(r, CHECK_WARN), report_count(r, CHECK_FAIL), report_count(r, CHECK_SKIP));
    for (size_t i = 0; i < r->n; i++) {
        const check_item *it = &r->items[i];
        buf_puts(out, i ? ",{" : "{");
        json_kv_str(out, "id", it->id);
        buf_putc(out, ',');
        json_kv_str(out, "component", hint_comp_name(it->comp));
        buf_putc(out, ',');
        json_kv_str(out, "status", report_status_name(it->status));
        buf_putc(out, ',');
        json_kv_str(out, "title", it->title);
        buf_putc(out, ',');
        json_kv_str(out, "detail", it->detail);
        buf_puts(out, ",\"ms\":");
        if (it->ms >= 0)
            buf_printf(out, "%.3f", it->ms);
        else
            buf_puts(out, "null");
        bool h = shows_hint(it);
        buf_putc(out, ',');
        json_kv_str(out, "cause", h ? it->hint.cause : NULL);
        buf_putc(out, ',');
        json_kv_str(out, "fix", h ? it->hint.fix : NULL);
        buf_putc(out, '}');
    }
    buf_puts(out, "]}\n");
}
