/* Ollama's management API through the gateway (everything native but
 * inference): the request goes to an Ollama host and the client gets that
 * host's answer (status, Content-Type, body bytes), streamed through with
 * backpressure (a pull's progress streams for minutes).
 *
 * Which host (docs/gateway.md, "Native Ollama API"):
 *  - GET/HEAD /api/tags and GET /api/ps: every Ollama host, lists merged.
 *    With a config, the list holds the config's model_names (an entry per
 *    name, from the first host that has the deployment's model, with
 *    "name" and "model" set to the alias); without one (discovery mode),
 *    the hosts' own entries, the first host's winning for a name seen twice.
 *  - POST /api/show: the host of the named model's deployment, with the
 *    name rewritten to the deployment's model.
 *  - Everything else (/, /api/version, pull, push, create, copy, delete,
 *    blobs, unknown paths): the primary host, i.e. the api_base of the
 *    first Ollama deployment in the config ($OLLAMA_HOST in discovery mode).
 *
 * Host is rewritten to the upstream's; Origin, cookies and Authorization
 * are not forwarded. Request bodies are the server's buffered body (up to
 * --max-body-mb). */
#ifndef TOLLGATE_SERVE_PASSTHRU_H
#define TOLLGATE_SERVE_PASSTHRU_H

#include <stddef.h>

#include "net/server.h"
#include "serve/gateway.h"

/* The distinct api_bases of Ollama deployments in config order (the
 * discovery base when there is none); returns the count (<= cap). */
int passthru_hosts(const gateway *g, const char **out, int cap);

void passthru_handle(gw_thread *t, conn *c, const http_request *req, const char *body, size_t len);

#endif
