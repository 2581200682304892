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

/* Wildcard groups (model_name with one '*', e.g. ollama/<star>): the model
 * names clients may request that the group's backends list (Ollama's
 * /api/tags, else GET {api_base}/models), e.g. "ollama/gemma3:27b", plus
 * "ollama/gemma3" for a listed "gemma3:latest". Sorted, no duplicates, at
 * most DISCOVER_MAX_LISTED; NULL with *n = 0 when there are none. A backend
 * that does not answer lists nothing. Free with discover_listed_free. */
#define DISCOVER_MAX_LISTED 1024
char **discover_listed(const config *cfg, size_t *n);
void discover_listed_free(char **names, size_t n);
/* Splits a pattern with exactly one '*' at it: prefix length and suffix.
 * False for names without a '*' or with more than one. */
bool discover_wildcard(const char *pattern, size_t *prefix_len, const char **suffix);

typedef struct discover_poller discover_poller;
/* A background thread reading /api/ps of every distinct Ollama api_base.
 * With watch_base (no-config mode) it also reads watch_base/api/tags and
 * notes when Ollama's model list no longer matches the served one; with
 * wildcard groups it notes when discover_listed no longer matches
 * g->listed. */
discover_poller *discover_poller_start(gateway *g, int interval_s, const char *watch_base);
void discover_poller_stop(discover_poller *p); /* NULL is fine */
/* True once the watched model list differs from the served one. */
bool discover_poller_models_changed(discover_poller *p);

#endif
