/* Byte-level scanning of JSON text: a validator that accepts only what
 * jansson accepts, and readers over text already known to be valid (find a
 * member, walk an object or array, decode a string literal) used by the
 * translator to splice fields without building a tree. Fuzzed against
 * jansson by tests/fuzz/fuzz_json_scan.c and fuzz_translate.c. */
#include "parse/json_scan.h"

#include <string.h>

#include "util/buf.h"

bool jscan_is(jscan_span v, const char *lit)
{
    size_t n = strlen(lit);
    return v.p && v.n == n && !memcmp(v.p, lit, n);
}

const char *jscan_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A quote ends the string when an even run of backslashes precedes it
 * (the same as stepping over each escape); memchr makes long text cheap. */
static const char *skip_string(const char *p, const char *e)
{
    const char *s = ++p;
    while (p < e) {
        const char *q = memchr(p, '"', (size_t)(e - p));
        if (!q)
            return NULL;
        const char *b = q;
        while (b > s && b[-1] == '\\')
            b--;
        if (((q - b) & 1) == 0)
            return q + 1;
        p = q + 1;
    }
    return NULL;
}

/* Skips one value; does not validate (jansson did), only stays in bounds. */
static const char *skip_value(const char *p, const char *e)
{
    if (p >= e)
        return NULL;
    if (*p == '"')
        return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        size_t depth = 0;
        while (p < e) {
            char c = *p;
            if (c != '"' && c != '{' && c != '[' && c != '}' && c != ']') {
                p++;
                continue;
            }
            if (c == '"') {
                p = skip_string(p, e);
                if (!p)
                    return NULL;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    return p;
}

bool jscan_find(const char *obj, const char *end, const char *key, jscan_span *val, jscan_span *member)
{
    size_t klen = strlen(key);
    const char *p = jscan_ws(obj, end);
    if (p >= end || *p != '{')
        return false;
    p = jscan_ws(p + 1, end);
    const char *prev_end = NULL; /* end of the previous member's value */
    while (p < end && *p == '"') {
        const char *ks = p;
        const char *ke = skip_string(p, end);
        if (!ke)
            return false;
        p = jscan_ws(ke, end);
        if (p >= end || *p != ':')
            return false;
        const char *vs = jscan_ws(p + 1, end);
        const char *ve = skip_value(vs, end);
        if (!ve)
            return false;
        p = jscan_ws(ve, end);
        bool match = (size_t)(ke - ks) == klen + 2 && memcmp(ks + 1, key, klen) == 0;
        if (match) {
            val->p = vs;
            val->n = (size_t)(ve - vs);
            if (member) {
                if (prev_end) {
                    member->p = prev_end;
                    member->n = (size_t)(ve - prev_end);
                } else {
                    const char *me = (p < end && *p == ',') ? jscan_ws(p + 1, end) : ve;
                    member->p = ks;
                    member->n = (size_t)(me - ks);
                }
            }
            return true;
        }
        if (p < end && *p == ',') {
            prev_end = ve;
            p = jscan_ws(p + 1, end);
            continue;
        }
        break;
    }
    return false;
}

bool jscan_object(const char *obj, const char *end, const char *const *keys, size_t nkeys, jscan_span *vals)
{
    size_t klens[16];
    if (nkeys > 16)
        return false;
    for (size_t i = 0; i < nkeys; i++) {
        vals[i] = (jscan_span){NULL, 0};
        klens[i] = strlen(keys[i]);
    }
    const char *p = jscan_ws(obj, end);
    if (p >= end || *p != '{')
        return false;
    p = jscan_ws(p + 1, end);
    if (p < end && *p == '}')
        return jscan_ws(p + 1, end) == end;
    while (p < end && *p == '"') {
        const char *ks = p;
        const char *ke = skip_string(p, end);
        if (!ke)
            return false;
        p = jscan_ws(ke, end);
        if (p >= end || *p != ':')
            return false;
        const char *vs = jscan_ws(p + 1, end);
        const char *ve = skip_value(vs, end);
        if (!ve || ve == vs)
            return false;
        size_t kl = (size_t)(ke - ks) - 2;
        for (size_t i = 0; i < nkeys; i++) {
            if (klens[i] == kl && !memcmp(ks + 1, keys[i], kl)) {
                if (vals[i].p)
                    return false; /* duplicate key: let jansson decide */
                vals[i] = (jscan_span){vs, (size_t)(ve - vs)};
            }
        }
        p = jscan_ws(ve, end);
        if (p < end && *p == ',') {
            p = jscan_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}')
            return jscan_ws(p + 1, end) == end;
        return false;
    }
    return false;
}

int jscan_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

long jscan_hex4(const char *p, const char *e)
{
    if (e - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = jscan_hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static void put_utf8(buf *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_append(b, u, n);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
size_t jscan_utf8_len(const unsigned char *p, const unsigned char *e)
{
    unsigned c = p[0];
    size_t n;
    unsigned long cp;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0) {
        n = 2;
        cp = c & 0x1F;
    } else if (c < 0xF0) {
        n = 3;
        cp = c & 0x0F;
    } else {
        n = 4;
        cp = c & 0x07;
    }
    if ((size_t)(e - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

bool jscan_string(jscan_span lit, buf *out)
{
    const char *p = lit.p, *e = lit.p + lit.n;
    if (lit.n < 2 || *p != '"' || e[-1] != '"')
        return false;
    e--; /* the closing quote */
    p++;
    const char *run = p;
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c < 0x20)
            return false;
        if (c >= 0x80) {
            size_t n = jscan_utf8_len((const unsigned char *)p, (const unsigned char *)e);
            if (!n)
                return false;
            p += n;
            continue;
        }
        if (c != '\\') {
            p++;
            continue;
        }
        buf_append(out, run, (size_t)(p - run));
        if (++p >= e)
            return false;
        switch (*p) {
        case '"': buf_putc(out, '"'); break;
        case '\\': buf_putc(out, '\\'); break;
        case '/': buf_putc(out, '/'); break;
        case 'b': buf_putc(out, '\b'); break;
        case 'f': buf_putc(out, '\f'); break;
        case 'n': buf_putc(out, '\n'); break;
        case 'r': buf_putc(out, '\r'); break;
        case 't': buf_putc(out, '\t'); break;
        case 'u': {
            long cp = jscan_hex4(p + 1, e);
            if (cp < 0)
                return false;
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return false; /* lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (e - p < 7 || p[1] != '\\' || p[2] != 'u')
                    return false;
                long lo = jscan_hex4(p + 3, e);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            put_utf8(out, (unsigned long)cp);
            break;
        }
        default: return false;
        }
        p++;
        run = p;
    }
    buf_append(out, run, (size_t)(p - run));
    return !out->oom;
}

bool jscan_array_each(const char *arr, const char *end, jscan_elem_cb cb, void *ud)
{
    const char *p = jscan_ws(arr, end);
    if (p >= end || *p != '[')
        return false;
    p = jscan_ws(p + 1, end);
    if (p < end && *p == ']')
        return true;
    for (size_t i = 0; p < end; i++) {
        const char *ve = skip_value(p, end);
        if (!ve)
            return false;
        cb(ud, i, (jscan_span){p, (size_t)(ve - p)});
        p = jscan_ws(ve, end);
        if (p < end && *p == ',') {
            p = jscan_ws(p + 1, end);
            continue;
        }
        return p < end && *p == ']';
    }
    return false;
}

/* ---- the validator ---- */

/* Deeper documents are left to jansson (its limit is 2048). */
#define FAST_MAX_DEPTH 64




/* A string literal at p (on its opening quote); returns the byte after the
 * closing quote, or NULL. allow_nul: \u0000 is accepted (never in keys). */
static const char *v_string(const char *p, const char *e, bool allow_nul)
{
    for (p++; p < e;) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            p++; /* the common case first: plain ASCII text */
            continue;
        }
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c >= 0x80) {
            size_t n = jscan_utf8_len((const unsigned char *)p, (const unsigned char *)e);
            if (!n)
                return NULL;
            p += n;
            continue;
        }
        if (c != '\\') {
            p++;
            continue;
        }
        if (++p >= e)
            return NULL;
        switch (*p) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': p++; break;
        case 'u': {
            long cp = jscan_hex4(p + 1, e);
            if (cp < 0 || (cp == 0 && !allow_nul) || (cp >= 0xDC00 && cp <= 0xDFFF))
                return NULL;
            p += 5;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (e - p < 6 || p[0] != '\\' || p[1] != 'u')
                    return NULL;
                long lo = jscan_hex4(p + 2, e);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return NULL;
                p += 6;
            }
            break;
        }
        default: return NULL;
        }
    }
    return NULL;
}

/* A number jansson surely reads without overflow: integers of at most 18
 * digits, reals of at most 40 characters with a 1-2 digit exponent. */
static const char *v_number(const char *p, const char *e)
{
    const char *s = p;
    if (p < e && *p == '-')
        p++;
    if (p >= e || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0') {
        p++;
        if (p < e && *p >= '0' && *p <= '9')
            return NULL;
    } else {
        while (p < e && *p >= '0' && *p <= '9')
            p++;
    }
    bool real = false;
    if (p < e && *p == '.') {
        real = true;
        p++;
        const char *d = p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d || p - d > 2)
            return NULL;
    }
    size_t n = (size_t)(p - s);
    if (real ? n > 40 : n - (*s == '-') > 18)
        return NULL;
    return p;
}

static const char *v_value(const char *p, const char *e, bool allow_nul, int depth);

static const char *v_container(const char *p, const char *e, bool allow_nul, int depth)
{
    bool obj = *p == '{';
    char close = obj ? '}' : ']';
    if (depth >= FAST_MAX_DEPTH)
        return NULL;
    p = jscan_ws(p + 1, e);
    if (p < e && *p == close)
        return p + 1;
    for (;;) {
        if (obj) {
            if (p >= e || *p != '"' || !(p = v_string(p, e, false)))
                return NULL;
            p = jscan_ws(p, e);
            if (p >= e || *p != ':')
                return NULL;
            p = jscan_ws(p + 1, e);
        }
        if (!(p = v_value(p, e, allow_nul, depth + 1)))
            return NULL;
        p = jscan_ws(p, e);
        if (p >= e)
            return NULL;
        if (*p == close)
            return p + 1;
        if (*p != ',')
            return NULL;
        p = jscan_ws(p + 1, e);
    }
}

static const char *v_lit(const char *p, const char *e, const char *lit, size_t n)
{
    return (size_t)(e - p) >= n && !memcmp(p, lit, n) ? p + n : NULL;
}

static const char *v_value(const char *p, const char *e, bool allow_nul, int depth)
{
    if (p >= e)
        return NULL;
    switch (*p) {
    case '"': return v_string(p, e, allow_nul);
    case '{':
    case '[': return v_container(p, e, allow_nul, depth);
    case 't': return v_lit(p, e, "true", 4);
    case 'f': return v_lit(p, e, "false", 5);
    case 'n': return v_lit(p, e, "null", 4);
    default: return v_number(p, e);
    }
}

bool jscan_valid(const char *s, size_t n, bool allow_nul)
{
    const char *e = s + n, *p = jscan_ws(s, e);
    if (p >= e || (*p != '{' && *p != '['))
        return false;
    p = v_container(p, e, allow_nul, 0);
    return p && jscan_ws(p, e) == e;
}
