#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>

#include "net/server.h"

static void handler(conn *c, const http_request *req, const char *body, size_t len, void *ud)
{
    (void)req; (void)body; (void)len; (void)ud;
    conn_respond(c, 200, "text/plain; charset=utf-8", NULL, "Ollama is running", 17);
}

int sim_main(int argc, char **argv)
{
    server_config cfg = {.host = "127.0.0.1", .port = argc > 1 ? atoi(argv[1]) : 11434, .handler = handler};
    char err[256];
    server *s = server_new(&cfg, err, sizeof err);
    if (!s) { fprintf(stderr, "tollgate sim: %s\n", err); return 1; }
    server_stop_on_signals(s, 2000);
    server_run(s);
    server_free(s);
    return 0;
}
