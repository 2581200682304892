/* litellm_config.yaml loader.
 *
 * Reads the LiteLLM proxy config format (model_list, litellm_settings,
 * general_settings, router_settings, environment_variables) with libyaml and
 * turns it into plain structs the gateway reads without further parsing.
 * Every "os.environ/VAR" string is resolved here, defaults are filled in
 * here, and every problem is reported with file:line so the gateway never
 * has to second-guess a value. docs/config.md lists every key.
 *
 * Library rules: nothing is printed; errors come back in err, warnings go to
 * the caller's warn callback, debug-level notes are kept in config.notes. */
#ifndef TOLLGATE_CONFIG_H
#define TOLLGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Inputs larger than this are refused before parsing. */
#define CONFIG_MAX_BYTES (1024 * 1024)
/* Deepest nesting of mappings/sequences accepted. */
#define CONFIG_MAX_DEPTH 64

typedef enum {
    PROVIDER_OLLAMA,
    PROVIDER_OLLAMA_CHAT,
    PROVIDER_OPENAI,
    PROVIDER_HOSTED_VLLM,
    PROVIDER_OPENAI_COMPATIBLE
} config_provider;

typedef enum {
    ROUTING_SIMPLE_SHUFFLE,
    ROUTING_LEAST_BUSY,
    ROUTING_LATENCY_BASED,
    ROUTING_USAGE_BASED
} config_routing;

typedef struct {
    char *model_name;      /* model group alias (model_name) */
    char *model;           /* litellm_params.model as written: "ollama/llama3.2:3b" */
    config_provider provider;
    char *provider_name;   /* the prefix: "ollama", "ollama_chat", "openai", "hosted_vllm",
                              or another prefix (e.g. "vllm", "llamacpp") that is treated as
                              OpenAI-compatible because api_base is set */
    char *upstream_model;  /* the part after the first '/': "llama3.2:3b" */
    char *api_base;        /* no trailing slash; ollama*: $OLLAMA_HOST normalised or
                              http://127.0.0.1:11434; openai: https://api.openai.com/v1 */
    char *api_key;         /* resolved (os.environ/VAR), NULL when absent */
    double timeout;        /* seconds, 0 = unset */
    double stream_timeout; /* seconds, 0 = unset */
    int max_retries;       /* -1 = unset */
    long rpm, tpm;         /* 0 = unset */
    char *model_id;        /* model_info.id, or a stable generated id (hash of the entry) */
    int line;              /* line of the model_list entry, for messages */
    /* Additions beyond the first contract: */
    double input_cost_per_token;  /* USD, from litellm_params or model_info; 0 = free */
    double output_cost_per_token; /* USD; 0 = free */
} config_deployment;

typedef struct {
    char *from;
    char **to;
    size_t nto;
} config_fallback;

typedef struct {
    config_deployment *deployments;
    size_t ndeployments;
    /* litellm_settings */
    char **callbacks; /* union of callbacks, success_callback, failure_callback, in order, no duplicates */
    size_t ncallbacks;
    double request_timeout; /* seconds; default 6000 as LiteLLM */
    int num_retries;        /* -1 unset */
    config_fallback *fallbacks; /* litellm_settings.fallbacks then router_settings.fallbacks; from "*" = any group */
    size_t nfallbacks;
    config_fallback *context_window_fallbacks; /* same shape, for context-window errors */
    size_t ncontext_window_fallbacks;
    char **default_fallbacks; /* for groups without a fallbacks entry */
    size_t ndefault_fallbacks;
    double *latency_buckets; /* prometheus_latency_buckets, strictly increasing, finite; NULL = default */
    size_t nlatency_buckets;
    /* general_settings */
    char *master_key; /* resolved; NULL = no auth. Falls back to $LITELLM_MASTER_KEY. */
    bool require_auth_for_metrics_endpoint; /* default false (LiteLLM v1.80) */
    /* router_settings */
    config_routing routing_strategy; /* default simple-shuffle */
    int allowed_fails;               /* default 3 */
    double cooldown_time;            /* seconds, default 5 */
    int router_num_retries;          /* -1 unset (LiteLLM then uses 2) */
    double router_timeout;           /* 0 unset */
    /* Additions beyond the first contract: */
    bool prometheus_callback; /* "prometheus" is among the callbacks (informational: /metrics is always served) */
    bool otel_callback;       /* "otel" is among the callbacks: OpenTelemetry export with LiteLLM's OTEL_* variables */
    char **env_names;         /* environment_variables, resolved; see config_apply_env */
    char **env_values;
    size_t nenv;
    char **notes; /* debug-level messages ("file:line: ...") for known LiteLLM keys accepted and ignored */
    size_t nnotes;
} config;

/* Receives one warning, e.g. "cfg.yaml:7: unknown key 'foo' in litellm_settings (ignored)". */
typedef void (*config_warn_fn)(void *ud, const char *msg);

/* Returns NULL on error with "file:line:col: what was expected" in err
 * (err may be NULL). warn may be NULL. The file is read whole; files over
 * CONFIG_MAX_BYTES are refused. */
config *config_load_file(const char *path, config_warn_fn warn, void *ud, char *err, size_t errlen);
/* Same for an in-memory document; name is used in messages. */
config *config_load_string(const char *yaml, size_t len, const char *name, config_warn_fn warn, void *ud,
                           char *err, size_t errlen);
void config_free(config *c);
/* An empty config with LiteLLM's defaults and no models (the gateway's
 * no-config mode when Ollama lists nothing). */
config *config_new_default(void);

/* "ollama", "ollama_chat", "openai", "hosted_vllm", "openai_compatible". */
const char *config_provider_name(config_provider p);
/* "simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing". */
const char *config_routing_name(config_routing r);

/* Normalises an Ollama host the way the ollama CLI reads OLLAMA_HOST
 * ("0.0.0.0:11434", "localhost", "http://x:1234/") into "http://host:port"
 * (malloc'd). NULL or empty gives "http://127.0.0.1:11434". Unspecified
 * addresses (0.0.0.0, ::) become loopback so the result is connectable. */
char *config_ollama_base(const char *ollama_host);

/* Sets the file's environment_variables into the process environment
 * (overwriting, as LiteLLM does). Not thread-safe (setenv): call from main
 * before starting threads. Returns 0, or -1 if setenv failed. */
int config_apply_env(const config *c);

#endif
