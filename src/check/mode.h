/* Host or Docker: how the stack that 'tollgate check' looks at runs, so that
 * its hints say `make run` / `systemctl` / the .run logs or `docker compose` /
 * container names. --mode host|docker decides; --mode auto (the default)
 * looks at this machine (docs/check.md, "Host or Docker"). */
#ifndef TOLLGATE_CHECK_MODE_H
#define TOLLGATE_CHECK_MODE_H

#include <stdbool.h>

#include "check/hint.h"

/* What auto mode looks at. */
typedef struct {
    bool loopback_gateway; /* the gateway URL's host is localhost, 127.x.x.x or [::1] */
    bool host_serve;       /* a `tollgate serve` process runs here outside any container */
    bool container_serve;  /* one runs in a container: its cgroup names docker, containerd, libpod or
                            * kubepods, or it is PID 1 (check runs inside the gateway's container) */
    bool run_dir;          /* ./.run exists (where `make run` keeps its logs) */
} mode_facts;

/* The rule, pure. *why gets a short static reason for the header line. */
check_mode mode_decide(const mode_facts *f, const char **why);
/* Whether the URL's host is localhost, 127.x.x.x or [::1]. */
bool mode_url_is_loopback(const char *url);
/* Gathers the facts from this machine (/proc, the working directory). */
void mode_facts_collect(const char *gateway_url, mode_facts *f);

#endif
