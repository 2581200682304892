#include "check/promapi.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double promapi_duration(const char *s)
{
    static const struct {
        const char *unit;
        double secs;
    } units[] = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 604800}, {"y", 31536000}};
    if (!s || !*s)
        return -1;
    double total = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s))
            return -1;
        char *ep;
        double v = strtod(s, &ep);
        s = ep;
        size_t best = 0;
        int idx = -1;
        for (int i = 0; i < (int)(sizeof units / sizeof units[0]); i++) {
            size_t ul = strlen(units[i].unit);
            if (!strncmp(s, units[i].unit, ul) && ul > best) {
                best = ul;
                idx = i;
            }
        }
        if (idx < 0)
            return -1;
        total += v * units[idx].secs;
        s += best;
    }
    return total;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

double promapi_time(const char *s)
{
    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
        se > 60)
        return -1;
    const char *p = s + 19;
    double frac = 0, scale = 0.1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh = digits(p + 1, 2), om = digits(p + 4, 2);
        if (oh < 0 || om < 0)
            return -1;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return (double)t - (double)off + frac;
}

static json_t *load(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root) {
        snprintf(err, errlen, "not JSON: %s", je.text);
        return NULL;
    }
    const char *status = json_string_value(json_object_get(root, "status"));
    if (!status || strcmp(status, "success") != 0) {
        const char *e = json_string_value(json_object_get(root, "error"));
        snprintf(err, errlen, "Prometheus answered %s%s%s", status ? status : "without a status", e ? ": " : "",
                 e ? e : "");
        json_decref(root);
        return NULL;
    }
    return root;
}

static int health_rank(const char *h)
{
    if (!strcmp(h, "down"))
        return 0;
    if (!strcmp(h, "up"))
        return 2;
    return 1;
}

int promapi_target(const char *json, size_t len, const char *job, double now_epoch, prom_target *out, char *err,
                   size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->age_s = out->interval_s = -1;
    json_t *root = load(json, len, err, errlen);
    if (!root)
        return -1;
    json_t *active = json_object_get(json_object_get(root, "data"), "activeTargets");
    if (!json_is_array(active)) {
        snprintf(err, errlen, "no data.activeTargets in the answer");
        json_decref(root);
        return -1;
    }
    int best_rank = 3;
    double best_age = -2;
    size_t i;
    json_t *t;
    out->all = (int)json_array_size(active);
    json_array_foreach(active, i, t)
    {
        const char *tjob = json_string_value(json_object_get(json_object_get(t, "labels"), "job"));
        if (!tjob)
            tjob = json_string_value(json_object_get(json_object_get(t, "discoveredLabels"), "job"));
        if (!tjob || strcmp(tjob, job) != 0)
            continue;
        const char *health = json_string_value(json_object_get(t, "health"));
        if (!health)
            health = "unknown";
        out->count++;
        if (!strcmp(health, "up"))
            out->up++;
        const char *ls = json_string_value(json_object_get(t, "lastScrape"));
        double last = promapi_time(ls);
        /* Prometheus reports 0001-01-01 (rejected above) before the first scrape. */
        double age = last >= 0 ? now_epoch - last : -1;
        int rank = health_rank(health);
        if (rank < best_rank || (rank == best_rank && age > best_age)) {
            best_rank = rank;
            best_age = age;
            snprintf(out->health, sizeof out->health, "%s", health);
            const char *le = json_string_value(json_object_get(t, "lastError"));
            snprintf(out->last_error, sizeof out->last_error, "%s", le ? le : "");
            const char *su = json_string_value(json_object_get(t, "scrapeUrl"));
            snprintf(out->scrape_url, sizeof out->scrape_url, "%s", su ? su : "");
            out->age_s = age;
            out->interval_s = promapi_duration(json_string_value(json_object_get(t, "scrapeInterval")));
        }
    }
    json_decref(root);
    return out->count > 0 ? 0 : 1;
}

int promapi_query(const char *json, size_t len, size_t *n, double *first, char *err, size_t errlen)
{
    *n = 0;
    *first = NAN;
    json_t *root = load(json, len, err, errlen);
    if (!root)
        return -1;
    json_t *data = json_object_get(root, "data");
    json_t *result = json_object_get(data, "result");
    const char *type = json_string_value(json_object_get(data, "resultType"));
    if (!json_is_array(result) || !type || strcmp(type, "vector") != 0) {
        snprintf(err, errlen, "expected a vector result");
        json_decref(root);
        return -1;
    }
    *n = json_array_size(result);
    if (*n > 0) {
        /* value is [ <unix time>, "<number as string>" ] */
        const char *v = json_string_value(json_array_get(json_object_get(json_array_get(result, 0), "value"), 1));
        if (v)
            *first = strtod(v, NULL);
    }
    json_decref(root);
    return 0;
}
