/* HTTP/1.1 request-head parser and chunked decoder. See http.h. */
#include "parse/http.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 tchar. A table keeps the hot loop to one load per byte. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
    ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,
    ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
    ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static bool eq_nocase(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* Finds the end of the head ("\r\n\r\n" or "\n\n"); returns its length or 0. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Does the comma-separated header value contain token tok? */
static bool has_token(const char *v, size_t n, const char *tok)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (eq_nocase(v + start, end - start, tok))
            return true;
    }
    return false;
}

static int parse_request_line(const char *p, const char *end, http_request *req, const char **next)
{
    const char *s = p;
    while (p < end && tchar[(unsigned char)*p])
        p++;
    if (p == s || p >= end || *p != ' ')
        return HTTP_E_BAD;
    req->method = s;
    req->method_len = (size_t)(p - s);
    s = ++p;
    req->path_len = 0;
    while (p < end && (unsigned char)*p > 0x20 && *p != 0x7f) {
        if (*p == '?' && req->path_len == 0)
            req->path_len = (size_t)(p - s);
        p++;
    }
    if (p == s || p >= end || *p != ' ')
        return HTTP_E_BAD;
    req->target = s;
    req->target_len = (size_t)(p - s);
    if (req->path_len == 0)
        req->path_len = req->target_len;
    p++;
    if (end - p < 8 || memcmp(p, "HTTP/", 5) != 0)
        return HTTP_E_BAD;
    if (p[5] != '1' || p[6] != '.' || (p[7] != '0' && p[7] != '1'))
        return HTTP_E_VERSION;
    req->minor_version = p[7] - '0';
    p += 8;
    if (p < end && *p == '\r')
        p++;
    if (p >= end || *p != '\n')
        return HTTP_E_BAD;
    *next = p + 1;
    return 0;
}

static int parse_content_length(const char *v, size_t n, int64_t *out)
{
    if (n == 0 || n > 18)
        return HTTP_E_BAD;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return HTTP_E_BAD;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 0;
}

/* Applies the headers that change framing and connection reuse. Rejects the
 * ambiguous combinations request smuggling relies on. */
static int apply_header(const http_header *h, int64_t *content_length, bool *chunked, bool *keep_alive,
                        bool *expect_continue)
{
    if (eq_nocase(h->name, h->name_len, "content-length")) {
        int64_t cl;
        if (parse_content_length(h->value, h->value_len, &cl) != 0)
            return HTTP_E_BAD;
        if (*content_length >= 0 && *content_length != cl)
            return HTTP_E_BAD;
        *content_length = cl;
    } else if (eq_nocase(h->name, h->name_len, "transfer-encoding")) {
        if (!eq_nocase(h->value, h->value_len, "chunked") || *chunked)
            return HTTP_E_BAD;
        *chunked = true;
    } else if (eq_nocase(h->name, h->name_len, "connection")) {
        if (has_token(h->value, h->value_len, "close"))
            *keep_alive = false;
        else if (has_token(h->value, h->value_len, "keep-alive"))
            *keep_alive = true;
    } else if (expect_continue && eq_nocase(h->name, h->name_len, "expect")) {
        *expect_continue = eq_nocase(h->value, h->value_len, "100-continue");
    }
    return 0;
}

/* Parses header lines from p up to the blank line, applying the ones that
 * change framing and connection reuse. Shared by requests and responses. */
static int parse_headers(const char *p, const char *end, http_header *headers, size_t *nheaders, int64_t *content_length,
                         bool *chunked, bool *keep_alive, bool *expect_continue)
{
    int rc;
    for (;;) {
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            break; /* blank line: end of head */
        if (*nheaders == HTTP_MAX_HEADERS)
            return HTTP_E_TOO_LARGE;
        http_header *h = &headers[*nheaders];
        const char *s = p;
        while (p < end && tchar[(unsigned char)*p])
            p++;
        if (p == s || p >= end || *p != ':')
            return HTTP_E_BAD; /* also rejects obs-fold and space before ':' */
        h->name = s;
        h->name_len = (size_t)(p - s);
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        s = p;
        while (p < end && *p != '\r' && *p != '\n') {
            unsigned char c = (unsigned char)*p;
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return HTTP_E_BAD;
            p++;
        }
        const char *ve = p;
        while (ve > s && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        h->value = s;
        h->value_len = (size_t)(ve - s);
        if (p < end && *p == '\r')
            p++;
        if (p >= end || *p != '\n')
            return HTTP_E_BAD;
        p++;
        rc = apply_header(h, content_length, chunked, keep_alive, expect_continue);
        if (rc != 0)
            return rc;
        (*nheaders)++;
    }
    return 0;
}

int http_parse_request(const char *buf, size_t len, size_t max_head, http_request *req)
{
    /* RFC 9112 2.2: ignore empty lines before the request line. */
    size_t skip = 0;
    while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n'))
        skip++;
    size_t hl = head_end(buf + skip, len - skip);
    if (hl == 0)
        return len > max_head ? HTTP_E_TOO_LARGE : HTTP_INCOMPLETE;
    hl += skip;
    if (hl > max_head)
        return HTTP_E_TOO_LARGE;

    memset(req, 0, sizeof *req);
    req->content_length = -1;
    const char *p = buf + skip, *end = buf + hl;
    int rc = parse_request_line(p, end, req, &p);
    if (rc != 0)
        return rc;
    req->keep_alive = req->minor_version == 1;

    rc = parse_headers(p, end, req->headers, &req->nheaders, &req->content_length, &req->chunked, &req->keep_alive,
                       &req->expect_continue);
    if (rc != 0)
        return rc;
    if (req->chunked && req->content_length >= 0)
        return HTTP_E_BAD;
    return (int)hl;
}

void http_head_scan_init(http_head_scan *s)
{
    s->pos = 0;
    s->started = false;
}

size_t http_head_scan_feed(http_head_scan *s, const char *buf, size_t len)
{
    if (!s->started) {
        while (s->pos < len && (buf[s->pos] == '\r' || buf[s->pos] == '\n'))
            s->pos++;
        if (s->pos == len)
            return 0;
        s->started = true;
    }
    /* The same rule as head_end(), resumed: a '\n' too close to the end
     * to decide is looked at again when more bytes come. */
    for (size_t i = s->pos; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
        if (i + 2 >= len) {
            s->pos = i;
            return 0;
        }
    }
    s->pos = len;
    return 0;
}

int http_parse_response(const char *buf, size_t len, size_t max_head, http_response *resp)
{
    size_t hl = head_end(buf, len);
    if (hl == 0)
        return len > max_head ? HTTP_E_TOO_LARGE : HTTP_INCOMPLETE;
    if (hl > max_head)
        return HTTP_E_TOO_LARGE;
    memset(resp, 0, sizeof *resp);
    resp->content_length = -1;
    const char *p = buf, *end = buf + hl;
    /* HTTP/1.x SP 3DIGIT SP reason CRLF */
    if (end - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return HTTP_E_BAD;
    resp->minor_version = p[7] - '0';
    p += 9;
    for (int i = 0; i < 3; i++, p++) {
        if (*p < '0' || *p > '9')
            return HTTP_E_BAD;
        resp->status = resp->status * 10 + (*p - '0');
    }
    if (*p != ' ' && *p != '\r' && *p != '\n')
        return HTTP_E_BAD;
    while (p < end && *p != '\n')
        p++;
    if (p >= end)
        return HTTP_E_BAD;
    p++;
    resp->keep_alive = resp->minor_version == 1;
    int rc = parse_headers(p, end, resp->headers, &resp->nheaders, &resp->content_length, &resp->chunked,
                           &resp->keep_alive, NULL);
    if (rc != 0)
        return rc;
    if (resp->chunked)
        resp->content_length = -1; /* RFC 9112 6.3: chunked wins */
    return (int)hl;
}

const http_header *http_find_header(const http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (eq_nocase(req->headers[i].name, req->headers[i].name_len, name))
            return &req->headers[i];
    return NULL;
}

bool http_request_api_key(const http_request *req, const char **key, size_t *len)
{
    const http_header *h = http_find_header(req, "authorization");
    if (h && h->value_len > 7 && strncasecmp(h->value, "Bearer ", 7) == 0) {
        size_t i = 7;
        while (i < h->value_len && (h->value[i] == ' ' || h->value[i] == '\t'))
            i++;
        *key = h->value + i;
        *len = h->value_len - i;
        return *len > 0;
    }
    if ((h = http_find_header(req, "x-litellm-api-key")) || (h = http_find_header(req, "api-key"))) {
        *key = h->value;
        *len = h->value_len;
        return *len > 0;
    }
    return false;
}

bool http_method_is(const http_request *req, const char *m)
{
    size_t n = strlen(m);
    return req->method_len == n && memcmp(req->method, m, n) == 0;
}

bool http_path_is(const http_request *req, const char *path)
{
    size_t n = strlen(path);
    return req->path_len == n && memcmp(req->target, path, n) == 0;
}

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_TRAILER_LF, CH_DONE };

#define CHUNK_LINE_MAX 4096

void http_chunked_init(http_chunked *d)
{
    memset(d, 0, sizeof *d);
    d->state = CH_SIZE;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int http_chunked_decode(http_chunked *d, char *buf, size_t *len, size_t *consumed)
{
    size_t in = 0, out = 0, n = *len;
    while (in < n && d->state != CH_DONE) {
        char c = buf[in];
        switch (d->state) {
        case CH_SIZE: {
            int h = hexval(c);
            if (h >= 0) {
                if (++d->digits > 15)
                    return HTTP_E_BAD;
                d->remaining = d->remaining * 16 + (uint64_t)h;
                in++;
            } else if (d->digits == 0) {
                return HTTP_E_BAD;
            } else if (c == ';' || c == ' ' || c == '\t') {
                d->state = CH_EXT;
                d->line_len = 0;
                in++;
            } else if (c == '\r') {
                d->state = CH_SIZE_LF;
                in++;
            } else if (c == '\n') {
                d->state = CH_SIZE_LF;
            } else {
                return HTTP_E_BAD;
            }
            break;
        }
        case CH_EXT:
            if (c == '\r' || c == '\n') {
                d->state = CH_SIZE_LF;
                if (c == '\r')
                    in++;
            } else {
                if (++d->line_len > CHUNK_LINE_MAX)
                    return HTTP_E_BAD;
                in++;
            }
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                return HTTP_E_BAD;
            in++;
            d->digits = 0;
            d->line_len = 0;
            d->state = d->remaining ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t avail = n - in;
            size_t take = d->remaining < avail ? (size_t)d->remaining : avail;
            memmove(buf + out, buf + in, take);
            out += take;
            in += take;
            d->remaining -= take;
            if (d->remaining == 0)
                d->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            d->state = CH_DATA_LF;
            if (c == '\r')
                in++;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                return HTTP_E_BAD;
            in++;
            d->state = CH_SIZE;
            break;
        case CH_TRAILER:
            /* A trailer line; an empty one ends the message. */
            if (c == '\r') {
                in++;
                d->state = CH_TRAILER_LF;
            } else if (c == '\n') {
                d->state = CH_TRAILER_LF;
            } else {
                if (++d->line_len > CHUNK_LINE_MAX)
                    return HTTP_E_BAD;
                in++;
            }
            break;
        case CH_TRAILER_LF:
            if (c != '\n')
                return HTTP_E_BAD;
            in++;
            d->state = d->line_len == 0 ? CH_DONE : CH_TRAILER;
            d->line_len = 0;
            break;
        }
    }
    *len = out;
    *consumed = in;
    return d->state == CH_DONE ? 1 : 0;
}

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
