/* Fallbacks across model groups, with LiteLLM's semantics: when a group's
 * retries are spent and nothing has reached the client, the groups listed
 * for it are tried in order, each with its own retries. A context-window
 * error uses context_window_fallbacks; any other 400 falls back nowhere
 * (the request itself is at fault); everything else uses fallbacks, or
 * default_fallbacks for a group without an entry ("*" entries count as
 * default too). */
#ifndef TOLLGATE_SERVE_FALLBACK_H
#define TOLLGATE_SERVE_FALLBACK_H

#include <stdbool.h>

#include "serve/gateway.h"

/* Turns the config's fallback names into group indices (names that are no
 * group are skipped: the config loader already warned). 0, or -1 when out
 * of memory. */
int fallback_resolve(gateway *g);
void fallback_free(gateway *g);

/* The groups to fall back to from grp after a failure with this upstream
 * status (0 = no response) and exception class; *n = 0 when none. */
const int *fallback_list(const gateway *g, const gw_group *grp, int status, const char *exc_class, int *n);

#endif
