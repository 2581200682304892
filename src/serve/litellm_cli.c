/* LiteLLM's proxy flags (litellm/proxy/proxy_cli.py) mapped onto serve. */
#include "serve/litellm_cli.h"

#include <string.h>

#include "util/log.h"

/* Flags of the litellm CLI that Tollgate ignores: the name, and whether it
 * takes a value. They configure things Tollgate does differently (worker
 * processes, a database, a single-model mode, TLS in the proxy) or not at all. */
static const struct {
    const char *name;
    bool value;
} ignored[] = {
    {"--api_base", true},          {"--api_version", true},       {"--model", true},
    {"--alias", true},             {"--add_key", true},           {"--headers", true},
    {"--temperature", true},       {"--max_tokens", true},        {"--request_timeout", true},
    {"--max_budget", true},        {"--telemetry", true},         {"--ssl_keyfile", true},
    {"--ssl_certfile", true},      {"--ciphers", true},           {"--num_requests", true},
    {"--keepalive_timeout", true}, {"--max_requests_before_restart", true},
    {"--log_config", true},        {"--save", false},             {"--drop_params", false},
    {"--add_function_to_prompt", false}, {"--test", false},       {"--health", false},
    {"--run_gunicorn", false},     {"--run_hypercorn", false},    {"--local", false},
    {"--use_queue", false},        {"--skip_server_startup", false}, {"--use_prisma_db_push", false},
    {"--use_prisma_migrate", false}, {"--iam_token_db_auth", false},
};

bool litellm_cli_form(const char *arg)
{
    return arg && arg[0] == '-' && strcmp(arg, "--help") && strcmp(arg, "-h") && strcmp(arg, "--version") &&
           strcmp(arg, "-V");
}

/* "--name" or "--name=value" */
static bool flag_is(const char *arg, const char *name, const char **eq)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
        return false;
    *eq = arg[n] == '=' ? arg + n + 1 : NULL;
    return true;
}

int litellm_cli_filter(int argc, char **argv)
{
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *eq = NULL;
        bool dropped = false;
        for (size_t k = 0; k < sizeof ignored / sizeof ignored[0] && !dropped; k++) {
            if (!flag_is(argv[i], ignored[k].name, &eq))
                continue;
            dropped = true;
            log_warn("%s is a flag of the litellm CLI that Tollgate ignores (see docs/gateway.md)", ignored[k].name);
            if (ignored[k].value && !eq && i + 1 < argc)
                i++; /* its value */
        }
        if (dropped)
            continue;
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}
