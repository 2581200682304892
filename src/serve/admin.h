/* Non-inference routes: models, health, metrics. */
#ifndef TOLLGATE_SERVE_ADMIN_H
#define TOLLGATE_SERVE_ADMIN_H

#include "net/server.h"
#include "serve/gateway.h"

void admin_models(gw_thread *t, conn *c, const char *id /* NULL = list */, size_t id_len);
void admin_liveliness(conn *c);
void admin_readiness(gw_thread *t, conn *c);
/* GET /health: probes every deployment cheaply (Ollama: GET /api/tags and
 * the model is there; OpenAI-compatible: GET /models) and answers in
 * LiteLLM's shape. */
void admin_health(gw_thread *t, conn *c);
void admin_metrics(gw_thread *t, conn *c);

#endif
