/* The start-up probe (and after each reload): every configured backend is
 * asked once, in parallel with a short timeout each, so that
 *  - a deployment whose backend does not answer is named in a warning
 *    ("deployment 'llama' (ollama_chat/llama3.2:3b at http://127.0.0.1:11434):
 *    not answering: connection refused"), api_base shown as scheme://host:port
 *    only (no credentials, path or query); start-up goes on regardless;
 *  - a forwarding loop (an Ollama address that is this gateway itself, which
 *    answers its own 508: native.h) is found.
 * Ollama hosts are asked for /api/version, OpenAI-compatible ones for
 * {api_base}/models; any HTTP answer counts as answering. Blocking, bounded
 * by about timeout_ms: call from the main thread, never from a worker, and
 * only once the server is listening (the loop check needs it). */
#ifndef TOLLGATE_SERVE_BACKENDS_H
#define TOLLGATE_SERVE_BACKENDS_H

#include <stddef.h>

#include "serve/gateway.h"

#define BACKENDS_PROBE_TIMEOUT_MS 3000

/* Logs one warning per deployment that did not answer; returns how many
 * did not. Returns -1 with the loop's message in err when an Ollama address
 * is this gateway (nothing else is logged then). */
int backends_probe(const gateway *g, long timeout_ms, char *err, size_t errlen);

/* "scheme://host:port" of an api_base (userinfo, path and query dropped;
 * the port as written, if any). */
void backends_origin(const char *api_base, char *out, size_t n);
/* An api_base fit for logs and headers: without user:password@ and without a
 * query string or fragment, which could carry credentials; the path kept. */
void backends_redacted(const char *api_base, char *out, size_t n);

#endif
