/* Helpers for the translation: a faithful compact JSON writer, a splice
 * scanner, ids, the token estimate. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve/translate_int.h"

void tj_u64(buf *b, unsigned long long v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void tj_real(buf *b, double v)
{
    char tmp[40];
    if (!isfinite(v)) {
        buf_puts(b, "null"); /* JSON has no NaN/Inf; jansson never yields them */
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(tmp, sizeof tmp, "%.1f", v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
    }
    buf_puts(b, tmp);
}

void tj_dump(buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        buf_putc(b, '{');
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                buf_putc(b, ',');
            first = false;
            buf_json_str(b, json_object_iter_key(it), json_object_iter_key_len(it));
            buf_putc(b, ':');
            tj_dump(b, json_object_iter_value(it));
        }
        buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                buf_putc(b, ',');
            tj_dump(b, json_array_get(v, i));
        }
        buf_putc(b, ']');
        break;
    }
    case JSON_STRING: buf_json_str(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: tj_real(b, json_real_value(v)); break;
    case JSON_TRUE: buf_puts(b, "true"); break;
    case JSON_FALSE: buf_puts(b, "false"); break;
    case JSON_NULL: buf_puts(b, "null"); break;
    }
}

const char *tj_str_of(const json_t *v, size_t *n)
{
    if (json_is_string(v)) {
        *n = json_string_length(v);
        return json_string_value(v);
    }
    *n = 0;
    return "";
}

bool tj_span_is(tj_span v, const char *lit)
{
    size_t n = strlen(lit);
    return v.p && v.n == n && !memcmp(v.p, lit, n);
}

const char *tj_ws(const char *p, const char *e)
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

bool tj_find(const char *obj, const char *end, const char *key, tj_span *val, tj_span *member)
{
    size_t klen = strlen(key);
    const char *p = tj_ws(obj, end);
    if (p >= end || *p != '{')
        return false;
    p = tj_ws(p + 1, end);
    const char *prev_end = NULL; /* end of the previous member's value */
    while (p < end && *p == '"') {
        const char *ks = p;
        const char *ke = skip_string(p, end);
        if (!ke)
            return false;
        p = tj_ws(ke, end);
        if (p >= end || *p != ':')
            return false;
        const char *vs = tj_ws(p + 1, end);
        const char *ve = skip_value(vs, end);
        if (!ve)
            return false;
        p = tj_ws(ve, end);
        bool match = (size_t)(ke - ks) == klen + 2 && memcmp(ks + 1, key, klen) == 0;
        if (match) {
            val->p = vs;
            val->n = (size_t)(ve - vs);
            if (member) {
                if (prev_end) {
                    member->p = prev_end;
                    member->n = (size_t)(ve - prev_end);
                } else {
                    const char *me = (p < end && *p == ',') ? tj_ws(p + 1, end) : ve;
                    member->p = ks;
                    member->n = (size_t)(me - ks);
                }
            }
            return true;
        }
        if (p < end && *p == ',') {
            prev_end = ve;
            p = tj_ws(p + 1, end);
            continue;
        }
        break;
    }
    return false;
}

bool tj_scan(const char *obj, const char *end, const char *const *keys, size_t nkeys, tj_span *vals)
{
    size_t klens[16];
    if (nkeys > 16)
        return false;
    for (size_t i = 0; i < nkeys; i++) {
        vals[i] = (tj_span){NULL, 0};
        klens[i] = strlen(keys[i]);
    }
    const char *p = tj_ws(obj, end);
    if (p >= end || *p != '{')
        return false;
    p = tj_ws(p + 1, end);
    if (p < end && *p == '}')
        return tj_ws(p + 1, end) == end;
    while (p < end && *p == '"') {
        const char *ks = p;
        const char *ke = skip_string(p, end);
        if (!ke)
            return false;
        p = tj_ws(ke, end);
        if (p >= end || *p != ':')
            return false;
        const char *vs = tj_ws(p + 1, end);
        const char *ve = skip_value(vs, end);
        if (!ve || ve == vs)
            return false;
        size_t kl = (size_t)(ke - ks) - 2;
        for (size_t i = 0; i < nkeys; i++) {
            if (klens[i] == kl && !memcmp(ks + 1, keys[i], kl)) {
                if (vals[i].p)
                    return false; /* duplicate key: let jansson decide */
                vals[i] = (tj_span){vs, (size_t)(ve - vs)};
            }
        }
        p = tj_ws(ve, end);
        if (p < end && *p == ',') {
            p = tj_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}')
            return tj_ws(p + 1, end) == end;
        return false;
    }
    return false;
}

int tj_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

long tj_hex4(const char *p, const char *e)
{
    if (e - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = tj_hexval(p[i]);
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
size_t tj_utf8_len(const unsigned char *p, const unsigned char *e)
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

bool tj_string(tj_span lit, buf *out)
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
            size_t n = tj_utf8_len((const unsigned char *)p, (const unsigned char *)e);
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
            long cp = tj_hex4(p + 1, e);
            if (cp < 0)
                return false;
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return false; /* lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (e - p < 7 || p[1] != '\\' || p[2] != 'u')
                    return false;
                long lo = tj_hex4(p + 3, e);
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

bool tj_array_each(const char *arr, const char *end, tj_elem_cb cb, void *ud)
{
    const char *p = tj_ws(arr, end);
    if (p >= end || *p != '[')
        return false;
    p = tj_ws(p + 1, end);
    if (p < end && *p == ']')
        return true;
    for (size_t i = 0; p < end; i++) {
        const char *ve = skip_value(p, end);
        if (!ve)
            return false;
        cb(ud, i, (tj_span){p, (size_t)(ve - p)});
        p = tj_ws(ve, end);
        if (p < end && *p == ',') {
            p = tj_ws(p + 1, end);
            continue;
        }
        return p < end && *p == ']';
    }
    return false;
}

static uint64_t id_seed;
static _Atomic uint64_t id_counter;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void id_init(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    id_seed = splitmix((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
              splitmix((uint64_t)getpid() ^ (uint64_t)(uintptr_t)&id_seed);
}

void tr_make_id(char out[25])
{
    static const char hex[] = "0123456789abcdef";
    pthread_once(&id_once, id_init);
    uint64_t n = atomic_fetch_add_explicit(&id_counter, 1, memory_order_relaxed);
    uint64_t a = splitmix(id_seed + 2 * n), c = splitmix(id_seed + 2 * n + 1);
    for (int i = 0; i < 16; i++)
        out[i] = hex[(a >> (4 * i)) & 15];
    for (int i = 0; i < 8; i++)
        out[16 + i] = hex[(c >> (4 * i)) & 15];
    out[24] = '\0';
}

void tr_copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (!cap)
        return;
    if (n >= cap) {
        n = cap - 1;
        /* Do not leave half a UTF-8 sequence at the end. */
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

void tr_bad_request(tr_error *err, const char *param, const char *fmt, ...)
{
    memset(err, 0, sizeof *err);
    err->status = 400;
    snprintf(err->type, sizeof err->type, "invalid_request_error");
    if (param)
        snprintf(err->param, sizeof err->param, "%s", param);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

void tr_error_message(const json_t *error, char *dst, size_t cap)
{
    if (json_is_string(error)) {
        tr_copy(dst, cap, json_string_value(error), json_string_length(error));
        return;
    }
    json_t *m = json_is_object(error) ? json_object_get(error, "message") : NULL;
    if (json_is_string(m)) {
        tr_copy(dst, cap, json_string_value(m), json_string_length(m));
        return;
    }
    buf b;
    buf_init(&b);
    tj_dump(&b, error);
    tr_copy(dst, cap, buf_cstr(&b), b.len);
    buf_free(&b);
}

uint64_t tr_count_tokens_estimate(const char *text, size_t len)
{
    uint64_t n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
            size_t j = i;
            while (j < len && (((unsigned char)text[j] | 0x20) >= 'a' && ((unsigned char)text[j] | 0x20) <= 'z'))
                j++;
            n += 1 + (j - i) / 10;
            i = j;
        } else if (c >= '0' && c <= '9') {
            size_t j = i;
            while (j < len && text[j] >= '0' && text[j] <= '9')
                j++;
            n += (j - i + 2) / 3;
            i = j;
        } else if (c >= 0x80) {
            /* One per code point: count lead bytes, skip continuations. */
            if ((c & 0xC0) != 0x80)
                n++;
            i++;
        } else {
            if (c > ' ' && c != 0x7f)
                n++;
            i++;
        }
    }
    return n;
}
