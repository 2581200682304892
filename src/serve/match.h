/* Which model group serves a client's model name, for the OpenAI routes
 * (proxy.c) and the native Ollama routes (native.c, passthru.c) alike.
 *
 * LiteLLM's order: an exact model_name first, then the most specific
 * wildcard group ("ollama/<star>", "<star>"; gateway.wild). A name a wildcard
 * group matched is labelled (requested_model) with the gateway's own copy of
 * it when one of the group's backends lists it (gateway.listed), else with
 * the pattern, so labels stay bounded whatever clients send. */
#ifndef TOLLGATE_SERVE_MATCH_H
#define TOLLGATE_SERVE_MATCH_H

#include <stddef.h>

#include "serve/gateway.h"

typedef struct {
    int group;         /* index into gateway.groups; -1: none */
    const char *label; /* requested_model: a group name or a gateway.listed entry (owned by the gateway) */
    char capture[256]; /* a wildcard group's: what the name had in place of the '*'; "" otherwise */
} gw_match;

/* Exact model_name, then wildcard groups. name need not be NUL-terminated.
 * Returns m->group. */
int match_group(const gateway *g, const char *name, size_t n, gw_match *m);

/* Wildcard groups only (for callers with their own exact lookup, such as
 * Ollama's name rules in native.c). Returns m->group. */
int match_wildcard(const gateway *g, const char *name, size_t n, gw_match *m);

/* The model to send upstream: cd's upstream model, with its '*' replaced by
 * capture when grp is a wildcard group (then written into out). */
const char *match_upstream_model(const gw_group *grp, const config_deployment *cd, const char *capture, char *out,
                                 size_t outlen);

#endif
