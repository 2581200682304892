/* Reading values out of Prometheus text exposition (format 0.0.4), for
 * 'tollgate check' (compare counters before and after a request, see whether
 * an exporter reports a GPU) and 'tollgate top' (every sample with its
 * labels). Not a full parser: it looks at sample lines only and never
 * allocates. The one exposition reader of the program. */
#ifndef TOLLGATE_CHECK_EXPO_H
#define TOLLGATE_CHECK_EXPO_H

#include <stddef.h>

/* Finds every sample whose name is exactly `name` (any labels), in text of
 * length len (need not be NUL-terminated). Returns how many were found and
 * stores their sum in *sum (0 when none). Malformed lines are skipped, and
 * NaN samples are counted but not added. */
size_t expo_sum(const char *text, size_t len, const char *name, double *sum);

/* One sample line. name/labels point into the text (not NUL-terminated);
 * labels is the inside of {...} ("" when none). */
typedef struct {
    const char *name;
    size_t name_len;
    const char *labels;
    size_t labels_len;
    double value;
} expo_sample;

typedef void (*expo_sample_fn)(const expo_sample *s, void *ud);

/* Calls fn for every well-formed sample line, in order; returns how many. */
size_t expo_each(const char *text, size_t len, expo_sample_fn fn, void *ud);

/* The value of label `key` of s, unescaped into out (truncated to outlen-1,
 * NUL-terminated). Returns 0, or -1 when s has no such label. */
int expo_label(const expo_sample *s, const char *key, char *out, size_t outlen);

/* Whether s's name is exactly `name`. */
int expo_is(const expo_sample *s, const char *name);

#endif
