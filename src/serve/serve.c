/* tollgate serve: start-up, routing of paths, authentication.
 *
 * Request path: net/server.c parses HTTP and calls on_request() below; it
 * authenticates and hands inference routes to proxy_handle() (proxy.c),
 * which picks a deployment (router.c), builds the upstream body and
 * translates the answer (src/translate/), calls the deployment (upstream.c:
 * upstream_h1.c for http://, upstream_curl.c for https://) and records
 * metrics (src/metrics/). */
#include "serve/serve.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "net/server.h"
#include "otel/otel.h"
#include "serve/admin.h"
#include "serve/backends.h"
#include "serve/discover.h"
#include "serve/fallback.h"
#include "serve/gateway.h"
#include "serve/native.h"
#include "serve/generation.h"
#include "serve/litellm_cli.h"
#include "serve/proxy.h"
#include "util/log.h"

typedef struct {
    const char *config_path;
    const char *host;
    int port;
    int threads;
    long max_body_mb;
    int poll_interval_s;
    int discover_wait_s;
    bool sidecar;
    server_config limits; /* header/body/idle timeouts, max_conns: 0 = server default */
    otel *otel;           /* OpenTelemetry export, shared by every generation; NULL = off */
} serve_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tollgate serve [options]\n\n"
            "OpenAI-compatible gateway in front of Ollama (or any OpenAI-compatible backend)\n"
            "with LiteLLM-compatible Prometheus metrics on /metrics.\n\n"
            "Options:\n"
            "  -c, --config FILE        litellm_config.yaml (model_list, litellm_settings, general_settings,\n"
            "                           router_settings). Without it, every model Ollama at $OLLAMA_HOST\n"
            "                           (default http://127.0.0.1:11434) lists is served under its own name.\n"
            "  -p, --port N             listen port (default 4000; 0 = any free port)\n"
            "      --host ADDR          listen address (default 0.0.0.0)\n"
            "  -t, --threads N          worker threads (default: one per core)\n"
            "      --max-body-mb N      largest request body accepted (default 16)\n"
            "      --header-timeout S   a whole request head must arrive within S seconds (default 30)\n"
            "      --body-timeout S     a body within S seconds plus 1 s per --body-min-rate bytes (default 60)\n"
            "      --body-min-rate B    bytes per second a slow body must keep up (default 1024)\n"
            "      --idle-timeout S     keep-alive connections idle longer are closed (default 60)\n"
            "      --max-conns N        open client connections; more get 503 (default: half of ulimit -n)\n"
            "      --poll-interval S    how often Ollama's /api/ps is read for tollgate_ollama_* (default 10, 0 = off)\n"
            "      --discover-wait S    without --config: how long to wait for Ollama at start (default 10)\n"
            "      --sidecar            take Ollama's own address: listen on 127.0.0.1:11434 (unless --host/--port\n"
            "                           say otherwise) and, without $OLLAMA_HOST, forward to Ollama at\n"
            "                           127.0.0.1:11435 (OLLAMA_HOST=127.0.0.1:11435 ollama serve)\n"
            "      --log-level LEVEL    debug, info (default), warn, error\n"
            "  -h, --help               this text\n\n"
            "LiteLLM's command line works too: tollgate --config F --port N [--host H] [--num_workers N]\n"
            "[--debug] [--detailed_debug] (--num_workers sets threads; --debug = info, --detailed_debug =\n"
            "debug logging; other litellm flags are ignored with a warning).\n\n"
            "Routes: POST /v1/chat/completions /v1/completions /v1/embeddings (also without /v1),\n"
            "        GET /v1/models /health /health/liveliness /health/readiness /metrics,\n"
            "        and Ollama's native API (/api/chat, /api/generate, /api/embed, /api/tags, ...)\n"
            "Docs: docs/gateway.md\n");
}

static int parse_opts(int argc, char **argv, serve_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},   {"port", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, 'H'},     {"threads", required_argument, NULL, 't'},
        {"max-body-mb", required_argument, NULL, 'b'}, {"poll-interval", required_argument, NULL, 'i'},
        {"discover-wait", required_argument, NULL, 'w'}, {"log-level", required_argument, NULL, 'l'},
        {"sidecar", no_argument, NULL, 'S'},
        {"header-timeout", required_argument, NULL, 1}, {"body-timeout", required_argument, NULL, 2},
        {"body-min-rate", required_argument, NULL, 3},  {"idle-timeout", required_argument, NULL, 4},
        {"max-conns", required_argument, NULL, 5},
        {"help", no_argument, NULL, 'h'},
        /* LiteLLM's spellings (litellm_cli.h): worker processes there, threads here. */
        {"num_workers", required_argument, NULL, 't'}, {"debug", no_argument, NULL, 'D'},
        {"detailed_debug", no_argument, NULL, 'E'}, {NULL, 0, NULL, 0},
    };
    *o = (serve_opts){.host = "0.0.0.0", .port = 4000, .max_body_mb = 16, .poll_interval_s = 10, .discover_wait_s = 10};
    optind = 1;
    bool host_set = false, port_set = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:p:t:h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 'c': o->config_path = optarg; break;
        case 'H': o->host = optarg; host_set = true; break;
        case 'S': o->sidecar = true; break;
        case 'p':
            port_set = true;
            o->port = (int)strtol(optarg, &end, 10);
            if (*end || o->port < 0 || o->port > 65535) {
                fprintf(stderr, "tollgate serve: --port wants 0..65535, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 't': o->threads = atoi(optarg); break;
        case 'b': o->max_body_mb = atol(optarg); break;
        case 'i': o->poll_interval_s = atoi(optarg); break;
        case 'w': o->discover_wait_s = atoi(optarg); break;
        case 'l': {
            int lvl = log_level_parse(optarg);
            if (lvl < 0) {
                fprintf(stderr, "tollgate serve: --log-level wants debug|info|warn|error, got '%s'\n", optarg);
                return 2;
            }
            log_set_level((enum log_level)lvl);
            break;
        }
        case 'D': log_set_level(LOG_INFO); break;
        case 'E': log_set_level(LOG_DEBUG); break;
        case 1: o->limits.header_timeout_ms = (int)(atof(optarg) * 1000); break;
        case 2: o->limits.body_timeout_ms = (int)(atof(optarg) * 1000); break;
        case 3: o->limits.body_min_rate = atoi(optarg); break;
        case 4: o->limits.idle_timeout_ms = (int)(atof(optarg) * 1000); break;
        case 5: o->limits.max_conns = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tollgate serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (o->max_body_mb < 1)
        o->max_body_mb = 1;
    if (o->sidecar) {
        if (!host_set)
            o->host = "127.0.0.1";
        if (!port_set)
            o->port = 11434;
    }
    return -1;
}

/* --- per-thread context --- */

/* --- auth --- */

/* Constant-time comparison: the time taken does not depend on where the
 * strings differ. */
static bool key_equal(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
    return diff == 0;
}

static bool authorized(const gateway *g, const http_request *req)
{
    if (!g->cfg->master_key)
        return true;
    const char *v = NULL;
    size_t vl = 0;
    return http_request_api_key(req, &v, &vl) && key_equal(v, vl, g->cfg->master_key);
}

/* LiteLLM's proxy-level errors: param is the string "None", code the
 * status as a string. */
static void respond_error(conn *c, int status, const char *type, const char *msg)
{
    tr_error e = {.status = status};
    snprintf(e.message, sizeof e.message, "%s", msg);
    snprintf(e.type, sizeof e.type, "%s", type);
    snprintf(e.param, sizeof e.param, "None");
    snprintf(e.code, sizeof e.code, "%d", status);
    proxy_respond_error(c, &e);
}

/* --- routing of paths --- */

/* The inference routes; the path is the route's name (metrics_route_name). */
typedef struct {
    tr_kind kind;
    metrics_route route;
} infer_route;

static const infer_route infer_routes[] = {
    {TR_CHAT, MR_CHAT_V1},           {TR_CHAT, MR_CHAT},           {TR_COMPLETION, MR_COMPLETIONS_V1},
    {TR_COMPLETION, MR_COMPLETIONS}, {TR_EMBEDDING, MR_EMBEDDINGS_V1}, {TR_EMBEDDING, MR_EMBEDDINGS},
};

static bool path_prefix(const http_request *req, const char *prefix, const char **rest, size_t *rest_len)
{
    size_t n = strlen(prefix);
    if (req->path_len <= n || memcmp(req->target, prefix, n) != 0)
        return false;
    *rest = req->target + n;
    *rest_len = req->path_len - n;
    return memchr(*rest, '/', *rest_len) == NULL;
}

static void dispatch(gw_thread *t, conn *c, const http_request *req, const char *body, size_t len)
{
    gateway *g = t->g;
    bool get = http_method_is(req, "GET") || http_method_is(req, "HEAD");
    bool post = http_method_is(req, "POST");

    for (size_t i = 0; i < sizeof infer_routes / sizeof infer_routes[0]; i++) {
        if (!http_path_is(req, metrics_route_name(infer_routes[i].route)))
            continue;
        if (!post) {
            respond_error(c, 405, "invalid_request_error", "Method Not Allowed: use POST");
            return;
        }
        if (!authorized(g, req)) {
            proxy_reject(t, c, infer_routes[i].route, NULL, 401, "auth_error", "401", tr_exc_name(TR_EXC_AUTH),
                         "Authentication Error, No api key passed in or key invalid. Send Authorization: Bearer <key>.");
            return;
        }
        proxy_handle(t, c, req, infer_routes[i].kind, infer_routes[i].route, body, len);
        return;
    }
    if (http_path_is(req, "/health/liveliness") || http_path_is(req, "/health/liveness")) {
        admin_liveliness(c);
        return;
    }
    if (http_path_is(req, "/health/readiness")) {
        admin_readiness(t, c);
        return;
    }
    if (http_path_is(req, "/metrics") || http_path_is(req, "/metrics/")) {
        if (g->cfg->require_auth_for_metrics_endpoint && !authorized(g, req)) {
            respond_error(c, 401, "auth_error", "Authentication Error: /metrics requires the master key");
            return;
        }
        admin_metrics(t, c);
        return;
    }
    const char *rest;
    size_t rest_len;
    bool models = http_path_is(req, "/v1/models") || http_path_is(req, "/models");
    bool model_one = !models && (path_prefix(req, "/v1/models/", &rest, &rest_len) || path_prefix(req, "/models/", &rest, &rest_len));
    bool health = http_path_is(req, "/health");
    if (models || model_one || health) {
        if (!get) {
            respond_error(c, 405, "invalid_request_error", "Method Not Allowed: use GET");
            return;
        }
        if (!authorized(g, req)) {
            respond_error(c, 401, "auth_error", "Authentication Error, No api key passed in or key invalid.");
            return;
        }
        if (health)
            admin_health(t, c);
        else
            admin_models(t, c, model_one ? rest : NULL, model_one ? rest_len : 0);
        return;
    }
    /* Everything else is Ollama's native API (native.c): inference routed
     * like the OpenAI routes, the rest passed through to Ollama. */
    if (!authorized(g, req)) {
        native_error(c, 401, "unauthorized: send Authorization: Bearer <master key>");
        return;
    }
    native_handle(t, c, req, body, len);
}

/* litellm_in_flight_requests counts every HTTP request while it is handled,
 * as LiteLLM's middleware does (a scrape sees itself); a proxied request
 * holds one more count of its own until it ends (proxy.c). */
static void on_request(conn *c, const http_request *req, const char *body, size_t len, void *ud)
{
    (void)ud;
    gw_thread *t = gw_worker_thread(conn_thread_ctx(c));
    metrics_registry *m = t->g->metrics;
    metrics_in_flight_add(m, 1);
    dispatch(t, c, req, body, len);
    metrics_in_flight_add(m, -1);
}

/* A request announcing a body, on its head: one without a valid key is
 * answered now (401, or whatever on_request says without a body), before
 * its body is read or 100 Continue is sent; the server then closes. */
static void on_head(conn *c, const http_request *req, void *ud)
{
    gw_thread *t = gw_worker_thread(conn_thread_ctx(c));
    if (!authorized(t->g, req))
        on_request(c, req, "", 0, ud);
}

/* --- start-up --- */

static char *sha256_hex(const char *s)
{
    unsigned char md[32];
    unsigned int n = 0;
    if (!EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL))
        return NULL;
    char *out = malloc(65);
    if (!out)
        return NULL;
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return out;
}

static char *exc_name(const char *provider, const char *cls)
{
    /* LiteLLM: provider with its first letter upper-cased, a dot, the class. */
    size_t n = strlen(provider) + strlen(cls) + 2;
    char *s = malloc(n);
    if (!s)
        return NULL;
    snprintf(s, n, "%s.%s", provider, cls);
    if (s[0] >= 'a' && s[0] <= 'z')
        s[0] = (char)(s[0] - 'a' + 'A');
    return s;
}

static void warn_cb(void *ud, const char *msg)
{
    (void)ud;
    log_warn("%s", msg);
}

void gateway_free(gateway *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->ndeps; i++) {
        free((char *)g->deps[i].exc_connect);
        free((char *)g->deps[i].exc_timeout);
        free((char *)g->deps[i].exc_stream);
    }
    if (g->groups)
        fallback_free(g);
    for (int i = 0; i < g->ngroups; i++)
        free(g->groups[i].deps);
    free(g->deps);
    free(g->groups);
    metrics_free(g->metrics);
    free(g->master_key_hash);
    free(g->wild);
    discover_listed_free(g->listed, g->nlisted);
    if (g->cfg)
        config_free(g->cfg);
    free(g);
}

static long secs_to_ms(double s) { return s > 0 ? (long)(s * 1000.0) : 0; }

/* Takes cfg and listed (discover_listed), also on failure. */
static gateway *gateway_new(config *cfg, char **listed, size_t nlisted, int nshards, char *err, size_t errlen)
{
    gateway *g = calloc(1, sizeof *g);
    if (!g) {
        config_free(cfg);
        discover_listed_free(listed, nlisted);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->cfg = cfg;
    g->listed = listed;
    g->nlisted = nlisted;
    atomic_init(&g->refs, 1);
    g->ndeps = (int)cfg->ndeployments;
    g->deps = calloc((size_t)g->ndeps + 1, sizeof *g->deps);
    g->groups = calloc((size_t)g->ndeps + 1, sizeof *g->groups);
    metrics_deployment_def *defs = calloc((size_t)g->ndeps + 1, sizeof *defs);
    if (!g->deps || !g->groups || !defs) {
        free(defs);
        gateway_free(g);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->num_retries = cfg->router_num_retries >= 0 ? cfg->router_num_retries : cfg->num_retries >= 0 ? cfg->num_retries : 2;
    g->allowed_fails = cfg->allowed_fails;
    g->cooldown_ns = (long)(cfg->cooldown_time * 1e9);
    for (int i = 0; i < g->ndeps; i++) {
        const config_deployment *cd = &cfg->deployments[i];
        gw_deployment *d = &g->deps[i];
        d->cfg = cd;
        d->index = i;
        d->src = (cd->provider == PROVIDER_OLLAMA || cd->provider == PROVIDER_OLLAMA_CHAT) ? TR_SRC_OLLAMA : TR_SRC_OPENAI;
        d->exc_connect = exc_name(cd->provider_name, tr_exc_name(TR_EXC_CONNECTION));
        d->exc_timeout = exc_name(cd->provider_name, tr_exc_name(TR_EXC_TIMEOUT));
        d->exc_stream = exc_name(cd->provider_name, tr_exc_name(TR_EXC_API));
        double timeout = cd->timeout > 0 ? cd->timeout : cfg->router_timeout > 0 ? cfg->router_timeout : cfg->request_timeout;
        d->timeout_ms = secs_to_ms(timeout);
        d->stream_timeout_ms = secs_to_ms(cd->stream_timeout > 0 ? cd->stream_timeout : timeout);
        int gi = -1;
        for (int k = 0; k < g->ngroups; k++)
            if (!strcmp(g->groups[k].name, cd->model_name))
                gi = k;
        if (gi < 0) {
            gi = g->ngroups++;
            g->groups[gi].name = cd->model_name;
            g->groups[gi].deps = calloc((size_t)g->ndeps, sizeof(int));
        }
        gw_group *grp = &g->groups[gi];
        grp->deps[grp->ndeps++] = i;
        d->group = gi;
        defs[i] = (metrics_deployment_def){.model_group = cd->model_name, .litellm_model = cd->model,
                                           .model_id = cd->model_id, .api_base = cd->api_base,
                                           .api_provider = cd->provider_name};
    }
    g->wild = calloc((size_t)g->ngroups + 1, sizeof *g->wild);
    for (int i = 0; g->wild && i < g->ngroups; i++) {
        gw_group *grp = &g->groups[i];
        if (!(grp->wildcard = discover_wildcard(grp->name, &grp->prefix_len, &grp->suffix)))
            continue;
        size_t lit = strlen(grp->name) - 1;
        int at = g->nwild++;
        while (at > 0 && strlen(g->groups[g->wild[at - 1]].name) - 1 < lit) {
            g->wild[at] = g->wild[at - 1];
            at--;
        }
        g->wild[at] = i;
    }
    g->wildcards = g->nwild;
    if (!g->wild || fallback_resolve(g) < 0) {
        free(defs);
        gateway_free(g);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cfg->master_key)
        g->master_key_hash = sha256_hex(cfg->master_key);
    metrics_config mc = {.deployments = defs, .ndeployments = (size_t)g->ndeps,
                         .latency_buckets = cfg->latency_buckets, .nbuckets = cfg->nlatency_buckets,
                         .hashed_api_key = g->master_key_hash, .api_key_alias = NULL, .nshards = nshards,
                         .user_id = cfg->master_key ? "default_user_id" : NULL,
                         .extra_groups = (const char *const *)g->listed, .nextra_groups = g->nlisted};
    g->metrics = metrics_new(&mc, err, errlen);
    free(defs);
    if (!g->metrics) {
        gateway_free(g);
        return NULL;
    }
    return g;
}

static void log_models(const gateway *g)
{
    char base[1024];
    for (int i = 0; i < g->ndeps; i++) {
        backends_redacted(g->deps[i].cfg->api_base, base, sizeof base);
        log_info("  model %s -> %s at %s", g->deps[i].cfg->model_name, g->deps[i].cfg->model, base);
    }
}

/* The configuration, read again: the file, or without one Ollama's model
 * list. NULL with the reason in err; the caller keeps what is running. */
static config *load_config(const serve_opts *o, const char *watch_base, int wait_s, char *err, size_t errlen)
{
    config *cfg = o->config_path ? config_load_file(o->config_path, warn_cb, NULL, err, errlen)
                                 : discover_config(watch_base, wait_s, err, errlen);
    if (cfg)
        for (size_t i = 0; i < cfg->nnotes; i++)
            log_debug("%s", cfg->notes[i]);
    return cfg;
}

static gateway *build(config *cfg, const serve_opts *o, const char *watch_base, int threads, char *err, size_t errlen)
{
    size_t nlisted;
    char **listed = discover_listed(cfg, &nlisted);
    gateway *g = gateway_new(cfg, listed, nlisted, threads, err, errlen); /* owns both, also on failure */
    if (g) {
        g->max_body = (size_t)o->max_body_mb << 20;
        g->otel = o->otel; /* process-wide, outlives every gateway */
        g->discovered = watch_base != NULL; /* the native API uses Ollama's names then */
        g->native_base = watch_base;        /* serve_main's, outlives every gateway */
    }
    return g;
}

typedef struct {
    server *s;
    atomic_bool done;
    int rc;
} server_thread;

static void *server_main(void *arg)
{
    server_thread *st = arg;
    st->rc = server_run(st->s) == 0 ? 0 : 1;
    atomic_store(&st->done, true);
    return NULL;
}

int serve_main(int argc, char **argv)
{
    serve_opts o;
    argc = litellm_cli_filter(argc, argv);
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    /* Signals are taken synchronously by the main thread (sigtimedwait);
     * every thread started from here on inherits the block. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[1024];
    config *cfg;
    char *watch_base = NULL;
    if (o.config_path) {
        cfg = config_load_file(o.config_path, warn_cb, NULL, err, sizeof err);
    } else {
        const char *env = getenv("OLLAMA_HOST");
        watch_base = config_ollama_base(env && *env ? env : o.sidecar ? "127.0.0.1:11435" : "127.0.0.1:11434");
        cfg = discover_config(watch_base, o.discover_wait_s, err, sizeof err);
    }
    if (!cfg) {
        fprintf(stderr, "tollgate serve: %s\n", err);
        free(watch_base);
        return 1;
    }
    for (size_t i = 0; i < cfg->nnotes; i++)
        log_debug("%s", cfg->notes[i]);
    if (config_apply_env(cfg) != 0)
        log_warn("could not set every variable of environment_variables");
    int threads = o.threads > 0 ? o.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    char warn[2048] = "";
    /* One server for the process: worker i is the same thread whatever the
     * generation, so one ring per worker keeps a single producer. */
    otel_settings os = {.litellm_callback = cfg->otel_callback, .workers = threads};
    if (otel_new(&os, &o.otel, err, sizeof err, warn, sizeof warn) != 0) {
        fprintf(stderr, "tollgate serve: %s\n", err);
        config_free(cfg);
        free(watch_base);
        return 1;
    }
    for (char *line = warn, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (*line)
            log_warn("%s", line);
    }
    gateway *g = build(cfg, &o, watch_base, threads, err, sizeof err);
    gw_holder *h = g ? gw_holder_new(g) : NULL;
    if (!h) {
        fprintf(stderr, "tollgate serve: %s\n", g ? "out of memory" : err);
        if (g)
            gateway_free(g);
        otel_free(o.otel);
        free(watch_base);
        return 1;
    }
    server_config sc = o.limits;
    sc.host = o.host;
    sc.port = o.port;
    sc.threads = threads;
    sc.max_body = g->max_body;
    sc.handler = on_request;
    sc.on_head = on_head;
    sc.warn = warn_cb;
    sc.thread_init = gw_worker_init;
    sc.thread_fini = gw_worker_fini;
    sc.ud = h;
    server_thread st = {.s = server_new(&sc, err, sizeof err)};
    atomic_init(&st.done, false);
    pthread_t tid;
    if (!st.s || pthread_create(&tid, NULL, server_main, &st) != 0) {
        fprintf(stderr, "tollgate serve: %s\n", st.s ? "cannot start the server thread" : err);
        server_free(st.s);
        gw_holder_free(h);
        free(watch_base);
        return 1;
    }
    /* Each backend asked once: one warning per deployment that does not
     * answer. A gateway whose Ollama is itself (sidecar mode with
     * OLLAMA_HOST left at 11434, or an api_base naming our own port) would
     * forward in a circle: refuse to start. */
    if (backends_probe(g, BACKENDS_PROBE_TIMEOUT_MS, err, sizeof err) < 0) {
        fprintf(stderr, "tollgate serve: %s\n", err);
        server_stop(st.s, 0);
        pthread_join(tid, NULL);
        server_free(st.s);
        gw_holder_free(h);
        otel_free(o.otel);
        free(watch_base);
        return 1;
    }
    discover_poller *poller = o.poll_interval_s > 0 ? discover_poller_start(g, o.poll_interval_s, watch_base) : NULL;
    log_info("tollgate serve %s listening on http://%s:%d (%d models, %d deployments, %d threads, config %s)",
             TOLLGATE_VERSION, o.host, server_port(st.s), g->ngroups, g->ndeps, threads,
             o.config_path ? o.config_path : "none: models discovered from Ollama");
    log_models(g);
    log_debug("router: %s, num_retries %d, allowed_fails %d, cooldown_time %.1f s",
              config_routing_name(g->cfg->routing_strategy), g->num_retries, g->allowed_fails, g->cfg->cooldown_time);
    if (o.otel) {
        char where[2200];
        otel_describe(o.otel, where, sizeof where);
        log_info("OpenTelemetry: %s", where);
    }

    /* SIGHUP, or (without --config) a change in Ollama's model list, builds
     * a new gateway and swaps it in (generation.h): nothing is closed, and
     * a bad new configuration leaves the running one in place. */
    time_t next_reload = 0;
    for (;;) {
        struct timespec ts = {0, 200 * 1000000};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            log_info("stopping: finishing requests in flight (up to 10 s; signal again to stop at once)");
            atomic_store(&gw_holder_current(h)->stopping, true);
            server_stop(st.s, 10000);
            break;
        }
        if (atomic_load(&st.done))
            break;
        bool hup = sig == SIGHUP;
        if (!hup && (!discover_poller_models_changed(poller) || time(NULL) < next_reload))
            continue;
        next_reload = time(NULL) + o.poll_interval_s;
        const char *what = hup ? (o.config_path ? o.config_path : "Ollama's model list") : "Ollama's model list";
        config *ncfg = load_config(&o, watch_base, 0, err, sizeof err);
        gateway *ng = ncfg ? build(ncfg, &o, watch_base, threads, err, sizeof err) : NULL;
        if (!ng) {
            log_warn("%s: could not reload, the running configuration stays: %s", what, err);
            continue; /* in discovery mode the poller flags again */
        }
        discover_poller_stop(poller);
        poller = o.poll_interval_s > 0 ? discover_poller_start(ng, o.poll_interval_s, watch_base) : NULL;
        gw_holder_swap(h, ng);
        if (hup)
            log_info("reloaded %s: now serving %d models, %d deployments (metrics start again from zero; requests "
                     "in flight finish on the previous configuration)", what, ng->ngroups, ng->ndeps);
        else
            log_info("Ollama's model list changed: now serving %d models (metrics start again from zero)", ng->ngroups);
        log_models(ng);
        /* After the swap, so a loop comes back as the new configuration's
         * 508; a loop's requests are refused (508), so a warning suffices. */
        if (hup && backends_probe(ng, BACKENDS_PROBE_TIMEOUT_MS, err, sizeof err) < 0)
            log_warn("%s", err);
    }
    while (!atomic_load(&st.done)) {
        struct timespec ts = {0, 100 * 1000000};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            log_info("stopping now, without waiting for requests in flight");
            server_stop(st.s, 0);
        }
    }
    pthread_join(tid, NULL);
    discover_poller_stop(poller);
    server_free(st.s);
    gw_holder_free(h);
    otel_free(o.otel); /* after the drain: sends what is queued, within 2 s */
    free(watch_base);
    curl_global_cleanup();
    log_info("tollgate serve stopped");
    return st.rc;
}
