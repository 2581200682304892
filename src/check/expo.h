/* Reading values out of Prometheus text exposition (format 0.0.4), just
 * enough for 'tollgate check' to compare counters before and after a request
 * and to see whether an exporter reports a GPU. Not a full parser: it looks
 * at sample lines only and never allocates. */
#ifndef TOLLGATE_CHECK_EXPO_H
#define TOLLGATE_CHECK_EXPO_H

#include <stddef.h>

/* Finds every sample whose name is exactly `name` (any labels), in text of
 * length len (need not be NUL-terminated). Returns how many were found and
 * stores their sum in *sum (0 when none). Malformed lines are skipped, and
 * NaN samples are counted but not added. */
size_t expo_sum(const char *text, size_t len, const char *name, double *sum);

#endif
