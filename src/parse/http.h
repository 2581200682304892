/* HTTP/1.1 message-head parser and chunked-body decoder.
 *
 * The head parser is stateless: call it again with the whole buffer each
 * time more bytes arrive. It returns 0 until the blank line that ends the
 * head is present, so no chunk boundary is ever assumed. A server reading
 * a head in pieces finds its end with http_head_scan first, which remembers
 * how far it looked. Names and values
 * point into the caller's buffer (no copies, no allocation).
 *
 * The chunked decoder is a small state machine that decodes in place. */
#ifndef TOLLGATE_PARSE_HTTP_H
#define TOLLGATE_PARSE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64

enum {
    HTTP_INCOMPLETE = 0,
    HTTP_E_BAD = -1,       /* malformed: answer 400 */
    HTTP_E_TOO_LARGE = -2, /* head over the limit: answer 431 */
    HTTP_E_VERSION = -3,   /* not HTTP/1.x: answer 505 */
};

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} http_header;

typedef struct {
    const char *method;
    size_t method_len;
    const char *target; /* path plus query, as sent */
    size_t target_len;
    size_t path_len;    /* length of target up to '?' */
    int minor_version;  /* 0 or 1 */
    http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    int64_t content_length; /* -1 when absent */
    bool chunked;
    bool keep_alive;        /* after Connection and version rules */
    bool expect_continue;
} http_request;

/* Parses the head of a request in buf[0..len). Returns the head length in
 * bytes (> 0) on success, HTTP_INCOMPLETE, or an HTTP_E_* code. Fails with
 * HTTP_E_TOO_LARGE once max_head bytes are seen without a complete head. */
int http_parse_request(const char *buf, size_t len, size_t max_head, http_request *req);

/* Incremental search for the end of a request head, for a server that gets
 * the head in pieces: each call scans only the bytes not scanned before, so
 * a head sent a byte at a time costs linear, not quadratic, time. Zero it
 * (or call http_head_scan_init) before the first byte of each request. */
typedef struct {
    size_t pos;   /* first byte not yet examined */
    bool started; /* leading empty lines (RFC 9112 2.2) are behind us */
} http_head_scan;

void http_head_scan_init(http_head_scan *s);
/* buf[0..len) is the request so far (the same bytes as before plus more).
 * Returns the length of the head, leading empty lines included, once its
 * blank line is in; 0 before. The result is what http_parse_request would
 * return for a well-formed head, and feeding that many bytes to it parses. */
size_t http_head_scan_feed(http_head_scan *s, const char *buf, size_t len);

/* The API key a request presents: "Authorization: Bearer <key>" (scheme
 * case-insensitive, extra blanks skipped), else the whole value of
 * "x-litellm-api-key" or "api-key". Sets *key (pointing into the request's
 * buffer) and *len and returns true when one is present and not empty. */
bool http_request_api_key(const http_request *req, const char **key, size_t *len);

typedef struct {
    int status;
    int minor_version;
    http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    int64_t content_length; /* -1 when absent */
    bool chunked;
    bool keep_alive;
} http_response;

/* Parses a response head (status line and headers) in buf[0..len), for the
 * gateway's upstream client. Same return convention as the request parser.
 * 1xx interim responses are returned as such; the caller skips them. */
int http_parse_response(const char *buf, size_t len, size_t max_head, http_response *resp);

/* Case-insensitive header lookup; returns NULL when absent. */
const http_header *http_find_header(const http_request *req, const char *name);

/* True when the method equals m (case-sensitive, as HTTP requires). */
bool http_method_is(const http_request *req, const char *m);

/* Compares the path part of the target (without the query) with p. */
bool http_path_is(const http_request *req, const char *p);

/* Chunked transfer-coding decoder. Decodes in place: feed it bytes and it
 * moves the body bytes to the front of the buffer. */
typedef struct {
    int state;
    uint64_t remaining; /* bytes left in the current chunk */
    unsigned digits;    /* hex digits seen in the size line */
    size_t line_len;    /* bytes in the current size/trailer line */
} http_chunked;

void http_chunked_init(http_chunked *d);

/* Decodes buf[0..*len) in place. On return *len is the number of decoded
 * body bytes now at buf[0..*len) and *consumed the input bytes used. Returns
 * 1 when the terminating chunk and trailers are complete, 0 when more input
 * is needed, HTTP_E_BAD on malformed input. */
int http_chunked_decode(http_chunked *d, char *buf, size_t *len, size_t *consumed);

/* The reason phrase for a status code ("OK", "Not Found", ...). */
const char *http_reason(int status);

#endif
