#include "sim/gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static bool space_byte(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

int sim_count_tokens(const char *text, size_t len)
{
    int n = 0;
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (word_byte(c)) {
            run++;
            continue;
        }
        n += (int)((run + 3) / 4);
        run = 0;
        if (!space_byte(c))
            n++;
    }
    n += (int)((run + 3) / 4);
    return n;
}

uint64_t sim_hash(uint64_t seed, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* splitmix64 finaliser: spreads (seed, i) well without state. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static const char *const words[64] = {
    "the",    "sky",    "is",     "blue",   "because", "light",  "from",    "sun",     "scatters", "in",
    "air",    "and",    "short",  "waves",  "reach",   "our",    "eyes",    "more",    "often",    "than",
    "long",   "ones",   "so",     "we",     "see",     "a",      "bright",  "colour",  "during",   "day",
    "at",     "dusk",   "red",    "orange", "tones",   "appear", "as",      "path",    "through",  "grows",
    "model",  "token",  "stream", "simple", "answer",  "clear",  "quick",   "gentle",  "river",    "stone",
    "garden", "window", "quiet",  "number", "letter",  "music",  "moment",  "reason",  "water",    "field",
    "cloud",  "north",  "south",  "echo"};

void sim_token_text(buf *out, uint64_t seed, int i)
{
    const char *w = words[mix(seed ^ (uint64_t)i * 0x100000001b3ULL) & 63];
    if (i == 0) {
        char first = w[0];
        if (first >= 'a' && first <= 'z')
            first = (char)(first - 'a' + 'A');
        buf_putc(out, first);
        buf_puts(out, w + 1);
        return;
    }
    buf_putc(out, ' ');
    buf_puts(out, w);
}

int sim_token_id(uint64_t seed, int i) { return (int)(mix(seed + (uint64_t)i) % 128256); }

void sim_embed_vector(float *v, int dim, uint64_t seed, bool normalize)
{
    double norm = 0;
    for (int i = 0; i < dim; i++) {
        uint64_t x = mix(seed + (uint64_t)i);
        /* Uniform in (-1, 1), 24 bits of mantissa. */
        double d = ((double)(x >> 40) / (double)(1 << 23)) - 1.0;
        v[i] = (float)d;
        norm += d * d;
    }
    if (!normalize || norm == 0)
        return;
    double inv = 1.0 / sqrt(norm);
    for (int i = 0; i < dim; i++)
        v[i] = (float)(v[i] * inv);
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return need;
}

void sim_json_str(buf *out, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    buf_putc(out, '"');
    size_t run = 0, i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_len(s + i, len - i);
            if (n > 0 && !(n == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))) {
                i += n;
                continue;
            }
            buf_append(out, str + run, i - run);
            if (n == 0) {
                buf_puts(out, "\\ufffd");
                i++;
            } else {
                buf_puts(out, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
                i += 3;
            }
            run = i;
            continue;
        }
        buf_append(out, str + run, i - run);
        switch (c) {
        case '"': buf_puts(out, "\\\""); break;
        case '\\': buf_puts(out, "\\\\"); break;
        case '\b': buf_puts(out, "\\b"); break;
        case '\f': buf_puts(out, "\\f"); break;
        case '\n': buf_puts(out, "\\n"); break;
        case '\r': buf_puts(out, "\\r"); break;
        case '\t': buf_puts(out, "\\t"); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(out, e, 6);
        }
        }
        i++;
        run = i;
    }
    buf_append(out, str + run, len - run);
    buf_putc(out, '"');
}

void sim_json_float(buf *out, double v, int bits)
{
    if (!isfinite(v)) {
        buf_puts(out, "null"); /* Go refuses these; never produced here */
        return;
    }
    if (v == 0) {
        buf_puts(out, signbit(v) ? "-0" : "0");
        return;
    }
    /* Shortest mantissa digits that read back to the same value. */
    char e[40];
    int maxp = bits == 32 ? 9 : 17;
    for (int p = 1; p <= maxp; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        double back = strtod(e, NULL);
        if (bits == 32 ? (float)back == (float)v : back == v)
            break;
    }
    /* e is "[-]d[.ddd]e[+-]XX": split into sign, digits and exponent. */
    const char *p = e;
    bool neg = *p == '-';
    if (neg)
        p++;
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int exp10 = atoi(p + 1);
    double a = fabs(v);
    if (neg)
        buf_putc(out, '-');
    if (a < 1e-6 || a >= 1e21) {
        buf_putc(out, digits[0]);
        if (nd > 1) {
            buf_putc(out, '.');
            buf_append(out, digits + 1, nd - 1);
        }
        buf_printf(out, "e%c%d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
        return;
    }
    if (exp10 < 0) {
        buf_puts(out, "0.");
        for (int i = -1; i > exp10; i--)
            buf_putc(out, '0');
        buf_append(out, digits, nd);
        return;
    }
    size_t ip = (size_t)exp10 + 1; /* digits before the point */
    for (size_t i = 0; i < ip; i++)
        buf_putc(out, i < nd ? digits[i] : '0');
    if (nd > ip) {
        buf_putc(out, '.');
        buf_append(out, digits + ip, nd - ip);
    }
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (a > INT64_MAX - b)
        return INT64_MAX;
    return a + b;
}

int sim_parse_duration(const char *s, bool allow_seconds, int64_t *ns)
{
    if (!s || !*s)
        return -1;
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!strcmp(p, "0")) {
        *ns = 0;
        return 0;
    }
    if (allow_seconds) {
        char *end;
        double secs = strtod(p, &end);
        if (end != p && *end == '\0') {
            double v = secs * 1e9;
            *ns = v >= 9.2e18 ? INT64_MAX : (int64_t)v;
            if (neg)
                *ns = -*ns;
            return 0;
        }
    }
    int64_t total = 0;
    if (!*p)
        return -1;
    while (*p) {
        const char *start = p;
        double whole = 0, frac = 0, scale = 1;
        while (*p >= '0' && *p <= '9')
            whole = whole * 10 + (*p++ - '0');
        bool digits = p > start;
        if (*p == '.') {
            p++;
            const char *fs = p;
            while (*p >= '0' && *p <= '9') {
                frac = frac * 10 + (*p++ - '0');
                scale *= 10;
            }
            digits = digits || p > fs;
        }
        if (!digits)
            return -1;
        double unit;
        if (!strncmp(p, "ns", 2)) {
            unit = 1;
            p += 2;
        } else if (!strncmp(p, "us", 2)) {
            unit = 1e3;
            p += 2;
        } else if (!strncmp(p, "\xc2\xb5s", 3)) {
            unit = 1e3;
            p += 3;
        } else if (!strncmp(p, "ms", 2)) {
            unit = 1e6;
            p += 2;
        } else if (*p == 's') {
            unit = 1e9;
            p++;
        } else if (*p == 'm') {
            unit = 60e9;
            p++;
        } else if (*p == 'h') {
            unit = 3600e9;
            p++;
        } else {
            return -1; /* Go: missing or unknown unit */
        }
        double v = (whole + frac / scale) * unit;
        total = sat_add(total, v >= 9.2e18 ? INT64_MAX : (int64_t)v);
    }
    *ns = neg ? -total : total;
    return 0;
}

size_t sim_fmt_time(char *out, size_t cap, int64_t sec64, long nsec, bool utc)
{
    sec64 += nsec / 1000000000;
    nsec %= 1000000000;
    if (nsec < 0) {
        nsec += 1000000000;
        sec64--;
    }
    time_t sec = (time_t)sec64;
    struct tm tm;
    if (!(utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm))) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    if (nsec) {
        char f[16];
        snprintf(f, sizeof f, ".%09ld", nsec);
        size_t fl = strlen(f);
        while (f[fl - 1] == '0')
            fl--;
        if (n + fl < cap) {
            memcpy(out + n, f, fl);
            n += fl;
        }
    }
    long off = utc ? 0 : tm.tm_gmtoff;
    int w;
    if (off == 0)
        w = snprintf(out + n, cap - n, "Z");
    else
        w = snprintf(out + n, cap - n, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600, (labs(off) % 3600) / 60);
    if (w > 0 && (size_t)w < cap - n)
        n += (size_t)w;
    return n;
}

void sim_base64(buf *out, const void *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    if (!buf_reserve(out, (len + 2) / 3 * 4))
        return;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        char q[4] = {tab[p[i] >> 2], tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)], tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)],
                     tab[p[i + 2] & 63]};
        buf_append(out, q, 4);
    }
    if (i < len) {
        unsigned a = p[i], b = i + 1 < len ? p[i + 1] : 0;
        char q[4] = {tab[a >> 2], tab[((a & 3) << 4) | (b >> 4)], i + 1 < len ? tab[(b & 15) << 2] : '=', '='};
        buf_append(out, q, 4);
    }
}
