/* tollgate: one binary, four subcommands.
 *
 * The request path of the gateway starts in serve_main (src/serve/serve.c):
 * server (src/net/server.c) -> serve.c:on_request -> proxy.c:proxy_handle
 * -> router.c:router_pick -> translator (src/translate) -> upstream.c
 * (upstream_h1.c for http://, upstream_curl.c for https://) -> the worker's
 * metrics shard (src/metrics). docs/architecture.md walks through it. */
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "gpu/gpu.h"
#include "serve/litellm_cli.h"
#include "serve/serve.h"
#include "sim/sim.h"
#include "top/top.h"
#include "util/suggest.h"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"serve", serve_main, "OpenAI-compatible gateway with LiteLLM-compatible /metrics (:4000)"},
    {"gpu", gpu_main, "GPU exporter with dcgm-exporter metric names, from NVML (:9400)"},
    {"check", check_main, "validate the whole pipeline end to end, with fixes for what fails"},
    {"sim", sim_main, "Ollama simulator for demos, tests and benchmarks (:11434)"},
    {"top", top_main, "live terminal view of the gateway's and GPU exporter's metrics, like htop"},
};

/* The closest command name, or NULL (util/suggest.h has the rule). */
static const char *suggest(const char *cmd)
{
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        names[i] = commands[i].name;
    return suggest_nearest(cmd, names, sizeof names / sizeof names[0]);
}

static void usage(FILE *f)
{
    fprintf(f, "tollgate %s - observability for self-hosted LLM inference\n\n"
               "Usage: tollgate <command> [options]\n\nCommands:\n",
            TOLLGATE_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  tollgate help <command>   options of one command (same as <command> --help)\n"
               "  tollgate --version\n"
               "  tollgate --config F --port N ...   LiteLLM's command line: runs serve\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
        printf("tollgate %s\n", TOLLGATE_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        cmd = argv[2];
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(cmd, commands[i].name)) {
                char *help_argv[] = {argv[2], "--help", NULL};
                return commands[i].fn(2, help_argv);
            }
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    /* LiteLLM's command line (`litellm --config F --port N`): options with
     * no subcommand run the gateway. */
    if (litellm_cli_form(cmd))
        return serve_main(argc, argv);
    const char *near = suggest(cmd);
    if (near) {
        fprintf(stderr, "tollgate: unknown command '%s', did you mean '%s'?\n", cmd, near);
        return 2;
    }
    fprintf(stderr, "tollgate: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
