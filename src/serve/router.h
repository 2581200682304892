/* Picking a deployment within a model group, and cooldowns.
 *
 * Strategies follow router_settings.routing_strategy: simple-shuffle
 * (random, weighted by rpm/tpm when set), least-busy (fewest in flight),
 * latency-based-routing (lowest moving average of upstream latency).
 * Cooled-down deployments are skipped while any other is available. */
#ifndef TOLLGATE_SERVE_ROUTER_H
#define TOLLGATE_SERVE_ROUTER_H

#include "serve/gateway.h"

/* Returns a deployment index of the group, avoiding `avoid` (the one that
 * just failed, -1 for none) when the group has another. */
int router_pick(gw_thread *t, const gw_group *grp, int avoid);

/* An attempt on deployment dep starts / ends: the router's in-flight count
 * (least-busy routing) and the metrics in-flight gauge move together. Every
 * router_acquire is paired with one router_release on the same thread. */
void router_acquire(gw_thread *t, int dep);
void router_release(gw_thread *t, int dep);

/* Feeds the outcome of one upstream attempt back into routing state.
 * Returns true when this failure put the deployment into cooldown. */
bool router_report(gateway *g, gw_deployment *d, bool ok, int status, int64_t latency_ns);

/* Should a failed attempt with this status (0 = connection failure) be
 * retried on another attempt? 429, 5xx and connection errors are. */
bool router_retryable(int status);

#endif
