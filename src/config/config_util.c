/* Small helpers for the config loader: scalar conversions, the OLLAMA_HOST
 * normalisation, and a stable hash for generated deployment ids. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/config_int.h"

bool cfg_parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return false;
    /* strtod also takes hex floats, "inf" and "nan"; YAML has none of them in
     * this spelling, and a timeout of "nan" is never what was meant. */
    for (const char *p = s; *p; p++)
        if (*p == 'x' || *p == 'X' || *p == 'n' || *p == 'N' || *p == 'i' || *p == 'I')
            return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool cfg_parse_long(const char *s, long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

bool cfg_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcmp(s, yes[i])) {
            *out = true;
            return true;
        }
        if (!strcmp(s, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool cfg_is_inf(const char *s)
{
    if (*s == '+')
        s++;
    if (*s == '.')
        s++;
    return !strcasecmp(s, "inf");
}

uint64_t cfg_hash(const char *const *parts, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)(parts[i] ? parts[i] : ""); ; p++) {
            h ^= *p;
            h *= 1099511628211ULL;
            if (!*p)
                break;
        }
    }
    return h;
}

bool cfg_is_http_url(const char *s)
{
    const char *rest;
    if (!strncasecmp(s, "http://", 7))
        rest = s + 7;
    else if (!strncasecmp(s, "https://", 8))
        rest = s + 8;
    else
        return false;
    return *rest && *rest != '/' && *rest != ':';
}

const char *config_provider_name(config_provider p)
{
    switch (p) {
    case PROVIDER_OLLAMA: return "ollama";
    case PROVIDER_OLLAMA_CHAT: return "ollama_chat";
    case PROVIDER_OPENAI: return "openai";
    case PROVIDER_HOSTED_VLLM: return "hosted_vllm";
    case PROVIDER_OPENAI_COMPATIBLE: return "openai_compatible";
    }
    return "unknown";
}

const char *config_routing_name(config_routing r)
{
    switch (r) {
    case ROUTING_SIMPLE_SHUFFLE: return "simple-shuffle";
    case ROUTING_LEAST_BUSY: return "least-busy";
    case ROUTING_LATENCY_BASED: return "latency-based-routing";
    case ROUTING_USAGE_BASED: return "usage-based-routing";
    }
    return "unknown";
}

/* Go's net.SplitHostPort, reduced to what OLLAMA_HOST needs: "[v6]:port" or
 * "host:port" with exactly one colon. host/port point into s (not
 * NUL-terminated). */
static bool split_host_port(const char *s, size_t len, const char **host, size_t *hlen, const char **port,
                            size_t *plen)
{
    if (len && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb)
            return false;
        size_t after = (size_t)(rb - s) + 1;
        if (after >= len || s[after] != ':')
            return false; /* missing port */
        if (memchr(rb + 2, ':', len - after - 1) || memchr(rb + 2, '[', len - after - 1) ||
            memchr(rb + 2, ']', len - after - 1))
            return false;
        *host = s + 1;
        *hlen = (size_t)(rb - s) - 1;
        *port = rb + 2;
        *plen = len - after - 1;
        return true;
    }
    const char *colon = NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':') {
            if (colon)
                return false; /* too many colons */
            colon = s + i;
        }
        if (s[i] == '[' || s[i] == ']')
            return false;
    }
    if (!colon)
        return false; /* missing port */
    *host = s;
    *hlen = (size_t)(colon - s);
    *port = colon + 1;
    *plen = len - *hlen - 1;
    return true;
}

/* Parses an IP literal; writes its canonical text to out (and whether it is
 * the unspecified address). */
static bool parse_ip(const char *s, size_t len, char *out, size_t outlen, bool *unspecified, bool *v6)
{
    char tmp[64];
    unsigned char a[16];
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    if (inet_pton(AF_INET, tmp, a) == 1) {
        *v6 = false;
        *unspecified = !a[0] && !a[1] && !a[2] && !a[3];
        return inet_ntop(AF_INET, a, out, (socklen_t)outlen) != NULL;
    }
    if (inet_pton(AF_INET6, tmp, a) == 1) {
        *v6 = true;
        *unspecified = true;
        for (int i = 0; i < 16; i++)
            if (a[i])
                *unspecified = false;
        return inet_ntop(AF_INET6, a, out, (socklen_t)outlen) != NULL;
    }
    return false;
}

/* Mirrors ollama's envconfig.Host() followed by ConnectableHost(): the
 * scheme defaults to http; the port defaults to 11434 without a scheme, 80
 * with http:// and 443 with https://; a bad port falls back to the default;
 * a path after the host is kept (without trailing slashes). */
char *config_ollama_base(const char *ollama_host)
{
    const char *s = ollama_host ? ollama_host : "";
    size_t len = strlen(s);
    /* envconfig.Var: trim spaces, then any quotes, then Host trims spaces again. */
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    while (len && (*s == '"' || *s == '\''))
        s++, len--;
    while (len && (s[len - 1] == '"' || s[len - 1] == '\''))
        len--;
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;

    char scheme[32] = "http";
    const char *defport = "11434";
    const char *hp = s;
    size_t hplen = len;
    const char *sep = NULL;
    for (size_t i = 0; i + 3 <= len; i++)
        if (!memcmp(s + i, "://", 3)) {
            sep = s + i;
            break;
        }
    if (!sep) {
        if (len == 10 && !memcmp(s, "ollama.com", 10)) {
            strcpy(scheme, "https");
            hp = "ollama.com:443";
            hplen = strlen(hp);
        }
    } else {
        size_t sl = (size_t)(sep - s);
        if (sl >= sizeof scheme)
            sl = sizeof scheme - 1;
        memcpy(scheme, s, sl);
        scheme[sl] = 0;
        if (!strcmp(scheme, "http"))
            defport = "80";
        else if (!strcmp(scheme, "https"))
            defport = "443";
        hp = sep + 3;
        hplen = len - (size_t)(hp - s);
    }
    const char *path = "";
    size_t pathlen = 0;
    const char *slash = memchr(hp, '/', hplen);
    if (slash) {
        path = slash + 1;
        pathlen = hplen - (size_t)(path - hp);
        hplen = (size_t)(slash - hp);
    }
    while (pathlen && path[pathlen - 1] == '/')
        pathlen--;

    const char *host, *port;
    size_t hlen, plen;
    char hostbuf[64];
    if (!split_host_port(hp, hplen, &host, &hlen, &port, &plen)) {
        host = "127.0.0.1";
        hlen = 9;
        port = defport;
        plen = strlen(defport);
        const char *t = hp;
        size_t tl = hplen;
        while (tl && *t == '[')
            t++, tl--;
        while (tl && t[tl - 1] == ']')
            tl--;
        bool unspec, v6;
        if (parse_ip(t, tl, hostbuf, sizeof hostbuf, &unspec, &v6)) {
            host = hostbuf;
            hlen = strlen(hostbuf);
        } else if (hplen) {
            host = hp;
            hlen = hplen;
        }
    }
    /* strconv.ParseInt(port, 10, 32) with 0..65535, else the default. */
    long pn = -1;
    char pbuf[16];
    if (plen > 0 && plen < sizeof pbuf) {
        memcpy(pbuf, port, plen);
        pbuf[plen] = 0;
        if (!cfg_parse_long(pbuf, &pn) || pn < 0 || pn > 65535 || pbuf[0] == ' ')
            pn = -1;
    }
    if (pn < 0)
        pn = strtol(defport, NULL, 10);

    /* ConnectableHost: 0.0.0.0 / :: are for binding, not for connecting. */
    char canon[64];
    bool unspec = false, v6 = false;
    if (parse_ip(host, hlen, canon, sizeof canon, &unspec, &v6) && unspec) {
        host = v6 ? "::1" : "127.0.0.1";
        hlen = strlen(host);
    }
    bool bracket = memchr(host, ':', hlen) != NULL;
    size_t need = strlen(scheme) + 3 + hlen + 2 + 1 + 6 + 1 + pathlen + 1;
    char *out = malloc(need);
    if (!out)
        return NULL;
    snprintf(out, need, "%s://%s%.*s%s:%ld%s%.*s", scheme, bracket ? "[" : "", (int)hlen, host, bracket ? "]" : "",
             pn, pathlen ? "/" : "", (int)pathlen, path);
    return out;
}
