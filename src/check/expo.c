#include "check/expo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Skips a label block starting at '{'. Label values are quoted and may hold
 * escaped quotes, '}' and spaces, so we cannot just search for '}'.
 * Returns the index after '}', or `end` when the block never closes. */
static size_t skip_labels(const char *s, size_t i, size_t end)
{
    int in_str = 0;
    for (i++; i < end; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '}') {
            return i + 1;
        }
    }
    return end;
}

/* Parses the value field of one sample line [i, end). */
static int parse_value(const char *s, size_t i, size_t end, double *out)
{
    while (i < end && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t j = i;
    while (j < end && s[j] != ' ' && s[j] != '\t' && s[j] != '\r')
        j++;
    size_t n = j - i;
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s + i, n);
    tmp[n] = '\0';
    char *ep;
    double v = strtod(tmp, &ep);
    if (*ep != '\0')
        return -1;
    *out = v;
    return 0;
}

size_t expo_sum(const char *text, size_t len, const char *name, double *sum)
{
    size_t nlen = strlen(name), found = 0, pos = 0;
    *sum = 0;
    if (nlen == 0)
        return 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t i = pos;
        pos = end + 1;
        while (i < end && (text[i] == ' ' || text[i] == '\t'))
            i++;
        if (i >= end || text[i] == '#' || end - i <= nlen || memcmp(text + i, name, nlen) != 0)
            continue;
        i += nlen;
        /* The name must end here: "foo" must not match "foo_total". */
        if (text[i] == '{')
            i = skip_labels(text, i, end);
        else if (text[i] != ' ' && text[i] != '\t')
            continue;
        double v;
        if (i >= end || parse_value(text, i, end, &v) != 0)
            continue;
        found++;
        if (!isnan(v))
            *sum += v;
    }
    return found;
}
