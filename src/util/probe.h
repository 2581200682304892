/* One blocking HTTP request with a deadline, for 'tollgate check' and the
 * gateway's background calls to Ollama (libcurl easy
 * interface: check runs its probes one after another, so blocking is fine).
 * Transport failures are classified so that hint.c can name the likely
 * cause the way the guide's troubleshooting tables do. */
#ifndef TOLLGATE_UTIL_PROBE_H
#define TOLLGATE_UTIL_PROBE_H

#include <stdbool.h>

#include "util/buf.h"

typedef enum {
    PROBE_OK = 0,   /* an HTTP response arrived (any status) */
    PROBE_REFUSED,  /* nothing listens there */
    PROBE_DNS,      /* the host name does not resolve */
    PROBE_TIMEOUT,  /* no (complete) answer within the timeout */
    PROBE_HTTP,     /* answered with a status the caller did not accept */
    PROBE_BODY,     /* answered, but the body is not what was expected */
    PROBE_ERROR,    /* anything else (TLS, reset, bad URL...) */
} probe_err;

typedef struct {
    int timeout_ms;      /* per request */
    double deadline;     /* absolute (probe_now()); 0 = none. Caps timeout_ms. */
    const char *api_key; /* sent as "Authorization: Bearer ..." when set */
} probe_opts;

typedef struct {
    probe_err err;
    long status;       /* HTTP status, 0 when none arrived */
    buf body;          /* response body (NUL-terminated when non-empty) */
    double total_s;    /* request start to last byte */
    double first_s;    /* request start to first body byte (-1: none) */
    char errmsg[256];  /* transport error text, "" when err == PROBE_OK */
} probe_resp;

/* Monotonic seconds. */
double probe_now(void);
/* Once per process, before any request (curl_global_init). */
int probe_global_init(void);
void probe_global_cleanup(void);

/* GET url, or POST json_body as application/json when json_body != NULL.
 * Always fills r (call probe_resp_free afterwards); returns r->err. */
probe_err probe_request(const probe_opts *o, const char *url, const char *json_body, probe_resp *r);
void probe_resp_free(probe_resp *r);
/* Short name of an error, for JSON output: "ok", "refused", "dns"... */
const char *probe_err_name(probe_err e);

#endif
