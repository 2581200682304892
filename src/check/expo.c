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

/* Parses the sample line [i, end) into *out; -1 for comments, blank and
 * malformed lines. */
static int parse_line(const char *text, size_t i, size_t end, expo_sample *out)
{
    while (i < end && (text[i] == ' ' || text[i] == '\t'))
        i++;
    if (i >= end || text[i] == '#')
        return -1;
    size_t n0 = i;
    while (i < end && text[i] != '{' && text[i] != ' ' && text[i] != '\t')
        i++;
    if (i == n0 || i >= end)
        return -1;
    out->name = text + n0;
    out->name_len = i - n0;
    out->labels = "";
    out->labels_len = 0;
    if (text[i] == '{') {
        size_t l0 = i + 1;
        i = skip_labels(text, i, end);
        if (i >= end || text[i - 1] != '}')
            return -1;
        out->labels = text + l0;
        out->labels_len = i - 1 - l0;
    }
    return parse_value(text, i, end, &out->value);
}

size_t expo_each(const char *text, size_t len, expo_sample_fn fn, void *ud)
{
    size_t pos = 0, n = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        expo_sample s;
        if (parse_line(text, pos, end, &s) == 0) {
            fn(&s, ud);
            n++;
        }
        pos = end + 1;
    }
    return n;
}

int expo_is(const expo_sample *s, const char *name)
{
    size_t n = strlen(name);
    return s->name_len == n && memcmp(s->name, name, n) == 0;
}

int expo_label(const expo_sample *s, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key), i = 0;
    const char *l = s->labels;
    size_t n = s->labels_len;
    while (i < n) {
        while (i < n && (l[i] == ',' || l[i] == ' '))
            i++;
        size_t k0 = i;
        while (i < n && l[i] != '=')
            i++;
        size_t k1 = i;
        while (k1 > k0 && l[k1 - 1] == ' ')
            k1--;
        if (i + 1 >= n || l[i + 1] != '"')
            return -1;
        i += 2;
        int match = k1 - k0 == klen && memcmp(l + k0, key, klen) == 0;
        size_t o = 0;
        for (; i < n && l[i] != '"'; i++) {
            char c = l[i];
            if (c == '\\' && i + 1 < n) {
                c = l[++i];
                if (c == 'n')
                    c = '\n';
            }
            if (match && o + 1 < outlen)
                out[o++] = c;
        }
        i++; /* closing quote */
        if (match) {
            if (outlen)
                out[o] = '\0';
            return 0;
        }
    }
    return -1;
}

typedef struct {
    const char *name;
    size_t found;
    double sum;
} sum_ctx;

static void sum_one(const expo_sample *s, void *ud)
{
    sum_ctx *c = ud;
    if (!expo_is(s, c->name))
        return;
    c->found++;
    if (!isnan(s->value))
        c->sum += s->value;
}

size_t expo_sum(const char *text, size_t len, const char *name, double *sum)
{
    sum_ctx c = {name, 0, 0};
    if (*name)
        expo_each(text, len, sum_one, &c);
    *sum = c.sum;
    return c.found;
}
