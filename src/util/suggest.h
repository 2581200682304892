/* "Did you mean …?": the nearest of a list of known words to a mistyped
 * one, for command names, options and config keys. One home for the rule
 * so every place that suggests behaves the same. */
#ifndef TOLLGATE_UTIL_SUGGEST_H
#define TOLLGATE_UTIL_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance of two words of at most SUGGEST_MAX_LEN bytes;
 * longer words give SIZE_MAX. */
#define SUGGEST_MAX_LEN 63
size_t suggest_distance(const char *a, const char *b);

/* The known word nearest to `word`: within 2 edits (1 for words of up to
 * 4 bytes, so short typos do not match everything), or one that `word` is
 * a non-empty prefix of. Returns NULL when none is close. `known` holds n
 * strings; NULL entries are skipped. */
const char *suggest_nearest(const char *word, const char *const *known, size_t n);

#endif
