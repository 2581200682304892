/* tollgate sim: flags and environment, startup, shutdown. */
#include "sim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "sim/internal.h"
#include "util/log.h"

static const char *const default_models[] = {"llama3.2:3b", "gemma3:1b", "qwen2.5:0.5b", "nomic-embed-text"};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tollgate sim [options]\n\n"
            "A deterministic Ollama simulator: Ollama's native API and its OpenAI-compatible /v1 API,\n"
            "byte for byte, with configurable timing, scheduling and fault injection. No GPU needed.\n\n"
            "Options:\n"
            "  --host ADDR            listen address (default 127.0.0.1)\n"
            "  --port N               listen port (default 11434; 0 = any free port)\n"
            "  --threads N            worker threads (default: one per core)\n"
            "  --models a,b,c         installed models (default llama3.2:3b,gemma3:1b,qwen2.5:0.5b,\n"
            "                         nomic-embed-text); names with embed/minilm/bge are embedding models\n"
            "  --config FILE          also serve the Ollama models a litellm_config.yaml names (ollama/NAME,\n"
            "                         ollama_chat/NAME), so the gateway with that config finds them\n"
            "  --ttft-ms MS           time to first token after a slot is free (default 80)\n"
            "  --token-ms MS          time per further token (default 20)\n"
            "  --load-ms MS           model load time, paid by the first request after idle (default 300)\n"
            "  --keep-alive DUR       how long an idle model stays loaded: Go duration (5m, 1h30m, 0) or\n"
            "                         seconds; negative = forever (default 5m; env OLLAMA_KEEP_ALIVE)\n"
            "  --num-parallel N       requests served at once per model (default 1; env OLLAMA_NUM_PARALLEL)\n"
            "  --max-queue N          requests that may wait for a model load before 503 (default 512;\n"
            "                         env OLLAMA_MAX_QUEUE)\n"
            "  --max-tokens-default N visible tokens when the request sets no limit (default 24; eval_count\n"
            "                         adds the end-of-sequence token)\n"
            "  --fixed-clock          answers carry the time 2026-01-01T00:00:00Z and durations from the\n"
            "                         timing flags, so equal requests get equal bytes (tests)\n"
            "  --quiet                no per-request log lines\n"
            "  -h, --help             this help\n\n"
            "Faults: put tollgate-fault:KIND[:ARG] in the prompt or last message, or set options.tollgate_fault\n"
            "(native) / tollgate_fault (/v1). KIND: 500 503 429 hang cut[:N] malformed[:N] slow[:MS] error[:N] context.\n"
            "Accounting: GET /sim/stats, POST /sim/reset. Details: docs/sim.md.\n");
}

static int parse_int(const char *flag, const char *v, int min, int *out)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || n < min || n > 1000000000) {
        fprintf(stderr, "tollgate sim: %s expects an integer >= %d, got '%s'\n", flag, min, v ? v : "");
        return -1;
    }
    *out = (int)n;
    return 0;
}

static int parse_ms(const char *flag, const char *v, int64_t *ns)
{
    char *end;
    double ms = v ? strtod(v, &end) : -1;
    if (!v || !*v || *end || ms < 0 || ms > 86400000) {
        fprintf(stderr, "tollgate sim: %s expects milliseconds >= 0, got '%s'\n", flag, v ? v : "");
        return -1;
    }
    *ns = (int64_t)(ms * 1e6);
    return 0;
}

static int parse_keep_alive(const char *what, const char *v, int64_t *ns)
{
    if (sim_parse_duration(v, true, ns) != 0) {
        fprintf(stderr, "tollgate sim: %s expects a duration such as 5m, 1h, 30s, 0 or -1, got '%s'\n", what, v);
        return -1;
    }
    if (*ns < 0)
        *ns = -1;
    return 0;
}

static void *thread_init(int index, struct event_base *base, void *ud)
{
    (void)base;
    sim_thread *t = calloc(1, sizeof *t);
    if (t) {
        t->ctx = ud;
        t->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(index + 1);
        buf_init(&t->scratch);
    }
    return t;
}

static void thread_fini(void *tctx, void *ud)
{
    (void)ud;
    sim_thread *t = tctx;
    if (!t)
        return;
    buf_free(&t->scratch);
    free(t);
}

/* Splits "a,b,c" into names (pointers into the copy). */
static int split_models(char *list, const char **names, int max)
{
    int n = 0;
    for (char *tok = strtok(list, ","); tok && n < max; tok = strtok(NULL, ",")) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = '\0';
        if (len)
            names[n++] = tok;
    }
    return n;
}

/* Appends the upstream names of the config's ollama/ollama_chat deployments
 * to names (pointers into *cfgp, which the caller frees). */
static int config_models(const char *path, config **cfgp, const char **names, int n, int max)
{
    char err[512];
    config *c = config_load_file(path, NULL, NULL, err, sizeof err);
    if (!c) {
        fprintf(stderr, "tollgate sim: --config: %s\n", err);
        return -1;
    }
    for (size_t i = 0; i < c->ndeployments && n < max; i++) {
        const config_deployment *d = &c->deployments[i];
        if ((d->provider == PROVIDER_OLLAMA || d->provider == PROVIDER_OLLAMA_CHAT) && d->upstream_model &&
            *d->upstream_model)
            names[n++] = d->upstream_model;
    }
    *cfgp = c;
    return n;
}

int sim_main(int argc, char **argv)
{
    sim_ctx ctx = {0};
    sim_config *cfg = &ctx.cfg;
    cfg->host = "127.0.0.1";
    cfg->port = 11434;
    cfg->ttft_ns = 80 * 1000000LL;
    cfg->token_ns = 20 * 1000000LL;
    cfg->load_ns = 300 * 1000000LL;
    cfg->keep_alive_ns = 5 * 60 * 1000000000LL;
    cfg->num_parallel = 1;
    cfg->max_queue = 512;
    cfg->max_tokens_default = 24;
    char *models_arg = NULL;
    const char *config_path = NULL;
    config *model_cfg = NULL;
    const char *names[64];
    int nnames = 0, rc = 1;
    server *s = NULL;

    /* Environment first, flags override. */
    const char *e;
    if ((e = getenv("OLLAMA_NUM_PARALLEL")) && *e && parse_int("OLLAMA_NUM_PARALLEL", e, 1, &cfg->num_parallel))
        return 2;
    if ((e = getenv("OLLAMA_MAX_QUEUE")) && *e && parse_int("OLLAMA_MAX_QUEUE", e, 0, &cfg->max_queue))
        return 2;
    if ((e = getenv("OLLAMA_KEEP_ALIVE")) && *e && parse_keep_alive("OLLAMA_KEEP_ALIVE", e, &cfg->keep_alive_ns))
        return 2;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quiet")) {
            cfg->quiet = true;
            continue;
        } else if (!strcmp(a, "--fixed-clock")) {
            cfg->fixed_clock = true;
            continue;
        } else if (!strcmp(a, "--host") && v) {
            cfg->host = v;
        } else if (!strcmp(a, "--port")) {
            bad = parse_int(a, v, 0, &cfg->port) || cfg->port > 65535;
        } else if (!strcmp(a, "--threads")) {
            bad = parse_int(a, v, 1, &cfg->threads);
        } else if (!strcmp(a, "--models") && v) {
            free(models_arg);
            models_arg = strdup(v);
        } else if (!strcmp(a, "--config") && v) {
            config_path = v;
        } else if (!strcmp(a, "--ttft-ms")) {
            bad = parse_ms(a, v, &cfg->ttft_ns);
        } else if (!strcmp(a, "--token-ms")) {
            bad = parse_ms(a, v, &cfg->token_ns);
        } else if (!strcmp(a, "--load-ms")) {
            bad = parse_ms(a, v, &cfg->load_ns);
        } else if (!strcmp(a, "--keep-alive") && v) {
            bad = parse_keep_alive(a, v, &cfg->keep_alive_ns);
        } else if (!strcmp(a, "--num-parallel")) {
            bad = parse_int(a, v, 1, &cfg->num_parallel);
        } else if (!strcmp(a, "--max-queue")) {
            bad = parse_int(a, v, 0, &cfg->max_queue);
        } else if (!strcmp(a, "--max-tokens-default")) {
            bad = parse_int(a, v, 1, &cfg->max_tokens_default);
        } else {
            fprintf(stderr, "tollgate sim: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            free(models_arg);
            return 2;
        }
        if (bad) {
            free(models_arg);
            return 2;
        }
        i++;
    }
    if (models_arg) {
        nnames = split_models(models_arg, names, 64);
    } else {
        nnames = (int)(sizeof default_models / sizeof default_models[0]);
        memcpy(names, default_models, sizeof default_models);
    }
    if (config_path && (nnames = config_models(config_path, &model_cfg, names, nnames, 64)) < 0) {
        free(models_arg);
        return 2;
    }
    sim_sched_cfg scfg = {cfg->num_parallel, cfg->max_queue, cfg->keep_alive_ns, cfg->load_ns};
    ctx.sched = sim_sched_new(&scfg, names, nnames);
    if (!ctx.sched) {
        fprintf(stderr, "tollgate sim: --models needs at least one valid model name\n");
        goto out;
    }
    ctx.stats = sim_stats_new(sim_sched_model_count(ctx.sched));
    if (!ctx.stats) {
        fprintf(stderr, "tollgate sim: out of memory\n");
        goto out;
    }
    server_config sc = {
        .host = cfg->host,
        .port = cfg->port,
        .threads = cfg->threads,
        .handler = sim_handler,
        .thread_init = thread_init,
        .thread_fini = thread_fini,
        .ud = &ctx,
        /* A hung or slow stream may sit idle far longer than keep-alive. */
        .idle_timeout_ms = 60000,
        /* Like Ollama (Go's net/http cancels a request's context when its
         * client's input ends), and how a gateway's cancel reaches us. */
        .eof_cancels = true,
    };
    char err[256];
    s = server_new(&sc, err, sizeof err);
    if (!s) {
        fprintf(stderr, "tollgate sim: %s\n", err);
        goto out;
    }
    server_stop_on_signals(s, 2000);
    buf list;
    buf_init(&list);
    for (int i = 0; i < sim_sched_model_count(ctx.sched); i++)
        buf_printf(&list, "%s%s", i ? ", " : "", sim_sched_model(ctx.sched, i)->name);
    bool v6 = strchr(cfg->host, ':') != NULL;
    log_info("tollgate sim %s listening on http://%s%s%s:%d (models: %s)", TOLLGATE_VERSION, v6 ? "[" : "", cfg->host,
             v6 ? "]" : "", server_port(s), buf_cstr(&list));
    buf_free(&list);
    rc = server_run(s) == 0 ? 0 : 1;
    log_info("tollgate sim stopped");
out:
    server_free(s);
    sim_stats_free(ctx.stats);
    sim_sched_free(ctx.sched);
    free(models_arg);
    config_free(model_cfg);
    return rc;
}
