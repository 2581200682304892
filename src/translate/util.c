/* Helpers of the translator: a faithful compact JSON writer for jansson
 * values, ids, bounded copies, error filling and the token estimate. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "translate/tr_int.h"

void tr_json_u64(buf *b, unsigned long long v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void tr_json_real(buf *b, double v)
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

void tr_json_dump(buf *b, const json_t *v)
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
            tr_json_dump(b, json_object_iter_value(it));
        }
        buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                buf_putc(b, ',');
            tr_json_dump(b, json_array_get(v, i));
        }
        buf_putc(b, ']');
        break;
    }
    case JSON_STRING: buf_json_str(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
    case JSON_REAL: tr_json_real(b, json_real_value(v)); break;
    case JSON_TRUE: buf_puts(b, "true"); break;
    case JSON_FALSE: buf_puts(b, "false"); break;
    case JSON_NULL: buf_puts(b, "null"); break;
    }
}

const char *tr_str_of(const json_t *v, size_t *n)
{
    if (json_is_string(v)) {
        *n = json_string_length(v);
        return json_string_value(v);
    }
    *n = 0;
    return "";
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
    tr_json_dump(&b, error);
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
