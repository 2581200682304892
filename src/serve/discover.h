/* Talking to Ollama outside the request path: discovering its models when
 * no config is given, and polling /api/ps for the tollgate_ollama_* state. */
#ifndef TOLLGATE_SERVE_DISCOVER_H
#define TOLLGATE_SERVE_DISCOVER_H

#include "config/config.h"
#include "serve/gateway.h"

/* Builds a config that serves every model Ollama lists at ollama_host
 * (NULL: http://127.0.0.1:11434) under its own name via ollama_chat/.
 * Waits up to wait_s seconds for Ollama to answer. An Ollama that never
 * answers yields an empty model list and a warning, not an error. */
config *discover_config(const char *ollama_host, int wait_s, char *err, size_t errlen);

typedef struct discover_poller discover_poller;
/* A background thread reading /api/ps of every distinct Ollama api_base.
 * With watch_base (no-config mode) it also reads watch_base/api/tags and
 * notes when Ollama's model list no longer matches the served one. */
discover_poller *discover_poller_start(gateway *g, int interval_s, const char *watch_base);
void discover_poller_stop(discover_poller *p); /* NULL is fine */
/* True once the watched model list differs from the served one. */
bool discover_poller_models_changed(discover_poller *p);

#endif
