/* Ollama's native API on the gateway's port (docs/gateway.md, "Native
 * Ollama API").
 *
 * Inference (POST /api/chat, /api/generate, /api/embed, /api/embeddings) is
 * routed by model name through the same groups, router, retries and
 * metrics as the OpenAI routes. The upstream gets the client's bytes with
 * only the "model" value replaced; the client gets Ollama's bytes (status,
 * Content-Type, body) with only "model" replaced by the name it sent. The
 * NDJSON (or whole JSON) answer is tapped on the way for the first token,
 * Ollama's counts and durations, done_reason and in-band errors.
 *
 * Everything else (GET /, /api/version, /api/tags, /api/ps, /api/show,
 * pull, push, create, copy, delete, blobs, unknown paths) goes to
 * passthru.c. Errors the gateway itself gives are Ollama-shaped:
 * {"error":"..."}. */
#ifndef TOLLGATE_SERVE_NATIVE_H
#define TOLLGATE_SERVE_NATIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "net/server.h"
#include "serve/gateway.h"
#include "util/buf.h"

/* Answers any request the gateway's own routes did not take. */
void native_handle(gw_thread *t, conn *c, const http_request *req, const char *body, size_t len);

/* The group a native client's model name names, with Ollama's lookup rules:
 * exact, then case-insensitive, then with ":latest" added when the name has
 * no tag. -1 when none. */
int native_find_group(const gateway *g, const char *name, size_t n);

/* The group has at least one deployment whose provider speaks Ollama's
 * native API (ollama/, ollama_chat/). */
bool native_group_served(const gateway *g, int group);

/* Appends s as a JSON string literal (quotes included; <, >, & escaped the
 * way Go does, so error bodies look like Ollama's). */
void native_json_str(buf *b, const char *s, size_t n);

/* "X-Tollgate-Hop: <nonce>\r\n": sent with every native upstream request.
 * A request that arrives carrying this process's nonce went through this
 * gateway already (its upstream is itself): native_handle answers 508. */
const char *native_hop_header(void);

/* The start-up check for such loops is backends_probe (backends.h). */

/* Sends {"error":"<msg>"} with Ollama's Content-Type. */
void native_error(conn *c, int status, const char *msg);

#endif
