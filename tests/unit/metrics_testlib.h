/* Helpers shared by the metrics unit tests (header-only, not a test). */
#ifndef TOLLGATE_TEST_METRICS_LIB_H
#define TOLLGATE_TEST_METRICS_LIB_H

#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

static inline char *mt_scrape(metrics_registry *r)
{
    buf b;
    buf_init(&b);
    metrics_write(r, &b);
    char *s = strdup(buf_cstr(&b));
    buf_free(&b);
    return s;
}

/* True when `line` is one whole line of text. */
static inline int mt_has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Lines starting with prefix. */
static inline int mt_count_prefix(const char *text, const char *prefix)
{
    int c = 0;
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, n) == 0)
            c++;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return c;
}

/* The value at the end of the first line starting with prefix, or -1. */
static inline double mt_value(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, n) == 0) {
            const char *sp = strchr(p, '\n');
            const char *v = p + n;
            while (v < (sp ? sp : p + strlen(p)) && *v != ' ')
                v++;
            if (*v == ' ')
                return strtod(v + 1, NULL);
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

#endif
