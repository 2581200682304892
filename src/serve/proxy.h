/* The inference request path: OpenAI request in, upstream call through a
 * chosen deployment, response (streamed or whole) out, one metrics record
 * at the end. */
#ifndef TOLLGATE_SERVE_PROXY_H
#define TOLLGATE_SERVE_PROXY_H

#include "net/server.h"
#include "serve/gateway.h"

/* Handles POST chat/completions, completions and embeddings. req is the
 * request head (for trace context headers), valid during the call only. */
void proxy_handle(gw_thread *t, conn *c, const http_request *req, tr_kind kind, metrics_route route, const char *body,
                  size_t len);

/* Sends e as the response: {"error":{"message","type","param","code"}}
 * with status e->status (tr_error_body's shape; empty parts are null).
 * Every error answer of the gateway goes through here. */
void proxy_respond_error(conn *c, const tr_error *e);

/* Answers with an OpenAI-shaped error and records it as a failed request
 * (requested_model is a configured name or NULL for "other"). */
void proxy_reject(gw_thread *t, conn *c, metrics_route route, const char *requested_model, int status,
                  const char *type, const char *code, const char *exc_class, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

#endif
