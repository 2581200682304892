/* model_list: one config_deployment per entry, provider and api_base
 * resolved, ids assigned. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

/* ---- model_list -------------------------------------------------------- */

static const char *const not_openai_compatible[] = {
    "anthropic", "azure", "azure_ai", "bedrock", "vertex_ai", "vertex_ai_beta", "gemini", "cohere", "cohere_chat",
    "sagemaker", "sagemaker_chat", "replicate", "watsonx", "palm", "huggingface", "cloudflare", "ai21", "nlp_cloud",
    "aleph_alpha", "petals", "baseten", "predibase", "triton", "clarifai", NULL,
};

static int set_provider(ld *l, config_deployment *d, yaml_node_t *at, const char *prefix, const char *path)
{
    if (!(d->provider_name = strdup(prefix)))
        return cfg_oom(l);
    if (!strcmp(prefix, "ollama"))
        d->provider = PROVIDER_OLLAMA;
    else if (!strcmp(prefix, "ollama_chat"))
        d->provider = PROVIDER_OLLAMA_CHAT;
    else if (!strcmp(prefix, "openai"))
        d->provider = PROVIDER_OPENAI;
    else if (!strcmp(prefix, "hosted_vllm"))
        d->provider = PROVIDER_HOSTED_VLLM;
    else {
        for (const char *const *p = not_openai_compatible; *p; p++)
            if (!strcmp(*p, prefix))
                return cfg_fail(l, at,
                            "%s: provider '%s' is not supported: expected ollama, ollama_chat, openai, hosted_vllm "
                            "or an OpenAI-compatible provider with api_base",
                            path, prefix);
        d->provider = PROVIDER_OPENAI_COMPATIBLE;
    }
    return 0;
}

static int cost_val(ld *l, const kv *p, const char *where, config_deployment *d, bool *handled)
{
    char path[256];
    *handled = true;
    snprintf(path, sizeof path, "%s.%s", where, p->k);
    if (!strcmp(p->k, "input_cost_per_token"))
        return cfg_num(l, p->val, path, 0, false, "a price >= 0", &d->input_cost_per_token);
    if (!strcmp(p->k, "output_cost_per_token"))
        return cfg_num(l, p->val, path, 0, false, "a price >= 0", &d->output_cost_per_token);
    *handled = false;
    return 0;
}

static int litellm_params(ld *l, yaml_node_t *n, const char *where, config_deployment *d, const char **custom,
                          yaml_node_t **model_node, yaml_node_t **base_node)
{
    kvlist ps;
    char path[256];
    int rc = -1;
    if (cfg_pairs(l, n, where, &ps) < 0)
        return -1;
    for (size_t i = 0; i < ps.n; i++) {
        const kv *p = &ps.v[i];
        yaml_node_t *v = p->val;
        bool handled;
        snprintf(path, sizeof path, "%s.%s", where, p->k);
        if (!strcmp(p->k, "model")) {
            *model_node = v;
            if (cfg_str_dup(l, v, path, CFG_ENV_OPTIONAL, &d->model) < 0)
                goto out;
        } else if (!strcmp(p->k, "api_base") || !strcmp(p->k, "base_url")) {
            *base_node = v;
            if (cfg_str_dup(l, v, path, CFG_ENV_REQUIRED, &d->api_base) < 0)
                goto out;
        } else if (!strcmp(p->k, "api_key")) {
            if (cfg_str_dup(l, v, path, CFG_ENV_REQUIRED, &d->api_key) < 0)
                goto out;
        } else if (!strcmp(p->k, "custom_llm_provider")) {
            if (cfg_text(l, v, path, CFG_ENV_OPTIONAL, custom) < 0)
                goto out;
        } else if (!strcmp(p->k, "timeout")) {
            if (cfg_num(l, v, path, 0, true, "a number of seconds > 0", &d->timeout) < 0)
                goto out;
        } else if (!strcmp(p->k, "stream_timeout")) {
            if (cfg_num(l, v, path, 0, true, "a number of seconds > 0", &d->stream_timeout) < 0)
                goto out;
        } else if (!strcmp(p->k, "max_retries")) {
            if (cfg_int(l, v, path, &d->max_retries) < 0)
                goto out;
            cfg_warn(l, v, "%s is not acted on by tollgate (it is the provider client's own retry count in "
                     "LiteLLM); retries come from router_settings.num_retries", path);
        } else if (!strcmp(p->k, "rpm")) {
            if (cfg_whole(l, v, path, 1L << 40, &d->rpm) < 0)
                goto out;
        } else if (!strcmp(p->k, "tpm")) {
            if (cfg_whole(l, v, path, 1L << 50, &d->tpm) < 0)
                goto out;
        } else if (cost_val(l, p, where, d, &handled) < 0) {
            goto out;
        } else if (!handled) {
            if (cfg_is_harmless("litellm_params", p->k))
                cfg_note(l, p->key, "litellm_params.%s has no effect in tollgate (ignored)", p->k);
            else
                cfg_warn(l, p->key, "unsupported key '%s' in litellm_params (ignored)", p->k);
        }
    }
    rc = 0;
out:
    free(ps.v);
    return rc;
}

static int model_info(ld *l, yaml_node_t *n, const char *where, config_deployment *d, yaml_node_t **id_node)
{
    kvlist ps;
    char path[256];
    int rc = -1;
    if (cfg_pairs(l, n, where, &ps) < 0)
        return -1;
    for (size_t i = 0; i < ps.n; i++) {
        const kv *p = &ps.v[i];
        bool handled;
        snprintf(path, sizeof path, "%s.%s", where, p->k);
        if (!strcmp(p->k, "id")) {
            *id_node = p->val;
            if (cfg_str_dup(l, p->val, path, CFG_ENV_OPTIONAL, &d->model_id) < 0)
                goto out;
            if (d->model_id && !*d->model_id) {
                cfg_fail(l, p->val, "%s: expected a non-empty id", path);
                goto out;
            }
        } else if (cost_val(l, p, where, d, &handled) < 0) {
            goto out;
        } else if (!handled) {
            /* model_info is free-form metadata in LiteLLM (mode, base_model,
             * max_tokens...), so other keys are expected, not typos. */
            cfg_note(l, p->key, "model_info.%s has no effect in tollgate (ignored)", p->k);
        }
    }
    rc = 0;
out:
    free(ps.v);
    return rc;
}

/* Fills api_base, provider and upstream_model once all keys are read. */
static int finish_deployment(ld *l, config_deployment *d, yaml_node_t *entry, yaml_node_t *model_node,
                             yaml_node_t *base_node, const char *custom, const char *where)
{
    char path[256];
    snprintf(path, sizeof path, "%s.litellm_params.model", where);
    if (!d->model)
        return cfg_fail(l, model_node ? model_node : entry, "%s: missing; expected '<provider>/<model>', e.g. "
                    "'ollama/llama3.2'", path);
    const char *slash = strchr(d->model, '/');
    if (custom) {
        /* custom_llm_provider names the provider; model is sent as written. */
        if (set_provider(l, d, model_node, custom, path) < 0)
            return -1;
        const char *um = d->model;
        size_t pl = strlen(custom);
        if (!strncmp(um, custom, pl) && um[pl] == '/')
            um += pl + 1;
        if (!(d->upstream_model = strdup(um)))
            return cfg_oom(l);
    } else {
        if (!slash || slash == d->model)
            return cfg_fail(l, model_node, "%s: '%s' has no provider prefix: expected '<provider>/<model>', e.g. "
                        "'ollama/%s'", path, d->model, slash ? slash + 1 : d->model);
        char prefix[64];
        size_t pl = (size_t)(slash - d->model);
        if (pl >= sizeof prefix)
            return cfg_fail(l, model_node, "%s: provider prefix too long", path);
        memcpy(prefix, d->model, pl);
        prefix[pl] = 0;
        if (set_provider(l, d, model_node, prefix, path) < 0)
            return -1;
        if (!(d->upstream_model = strdup(slash + 1)))
            return cfg_oom(l);
    }
    if (!*d->upstream_model)
        return cfg_fail(l, model_node, "%s: '%s' has no model name after the provider prefix", path, d->model);

    snprintf(path, sizeof path, "%s.litellm_params.api_base", where);
    if (d->api_base) {
        size_t n = strlen(d->api_base);
        while (n && d->api_base[n - 1] == '/')
            d->api_base[--n] = 0;
        if (!cfg_is_http_url(d->api_base))
            return cfg_fail(l, base_node, "%s: expected an http:// or https:// URL, found '%s'", path, d->api_base);
        return 0;
    }
    switch (d->provider) {
    case PROVIDER_OLLAMA:
    case PROVIDER_OLLAMA_CHAT:
        d->api_base = config_ollama_base(cfg_env_get(l, "OLLAMA_HOST"));
        break;
    case PROVIDER_OPENAI:
        d->api_base = strdup("https://api.openai.com/v1");
        break;
    default:
        return cfg_fail(l, entry, "%s: provider '%s' needs api_base (the server's OpenAI-compatible URL, e.g. "
                    "http://127.0.0.1:8000/v1)", path, d->provider_name);
    }
    return d->api_base ? 0 : cfg_oom(l);
}

/* Provider keys from the environment, as LiteLLM reads them, but only where
 * they cannot leak to a server other than the one they are meant for. */
static int default_key(ld *l, config_deployment *d)
{
    const char *k = NULL;
    if (d->api_key)
        return 0;
    if (d->provider == PROVIDER_OPENAI && !strcmp(d->api_base, "https://api.openai.com/v1"))
        k = cfg_env_get(l, "OPENAI_API_KEY");
    else if (d->provider == PROVIDER_HOSTED_VLLM)
        k = cfg_env_get(l, "HOSTED_VLLM_API_KEY");
    if (k && *k && !(d->api_key = strdup(k)))
        return cfg_oom(l);
    return 0;
}

static int deployment(ld *l, yaml_node_t *entry, size_t idx, config_deployment *d, yaml_node_t **id_out)
{
    char where[64], path[160];
    kvlist ps;
    int rc = -1;
    const char *custom = NULL;
    yaml_node_t *model_node = NULL, *base_node = NULL, *id_node = NULL, *params = NULL;
    d->max_retries = -1;
    d->line = (int)entry->start_mark.line + 1;
    snprintf(where, sizeof where, "model_list[%zu]", idx);
    if (entry->type != YAML_MAPPING_NODE)
        return cfg_fail(l, entry, "%s: expected a mapping with model_name and litellm_params, found %s", where,
                    cfg_type_name(entry));
    if (cfg_pairs(l, entry, where, &ps) < 0)
        return -1;
    for (size_t i = 0; i < ps.n; i++) {
        const kv *p = &ps.v[i];
        snprintf(path, sizeof path, "%s.%s", where, p->k);
        if (!strcmp(p->k, "model_name")) {
            if (cfg_str_dup(l, p->val, path, CFG_ENV_OPTIONAL, &d->model_name) < 0)
                goto out;
            if (!d->model_name || !*d->model_name) {
                cfg_fail(l, p->val, "%s: expected a non-empty name", path);
                goto out;
            }
        } else if (!strcmp(p->k, "litellm_params")) {
            params = p->val;
            if (litellm_params(l, p->val, path, d, &custom, &model_node, &base_node) < 0)
                goto out;
        } else if (!strcmp(p->k, "model_info")) {
            if (cfg_is_null(p->val))
                continue;
            if (model_info(l, p->val, path, d, &id_node) < 0)
                goto out;
        } else {
            cfg_warn(l, p->key, "unknown key '%s' in %s (ignored)", p->k, where);
        }
    }
    if (!d->model_name) {
        cfg_fail(l, entry, "%s: missing model_name (the name clients send as \"model\")", where);
        goto out;
    }
    if (!params) {
        cfg_fail(l, entry, "%s: missing litellm_params (expected at least model: '<provider>/<model>')", where);
        goto out;
    }
    if (finish_deployment(l, d, params, model_node, base_node, custom, where) < 0 || default_key(l, d) < 0)
        goto out;
    *id_out = id_node ? id_node : entry;
    rc = 0;
out:
    free(ps.v);
    return rc;
}

/* Explicit ids must be unique; generated ones hash the entry and get a
 * suffix when two entries are identical. */
static int assign_ids(ld *l, yaml_node_t **id_nodes)
{
    config *c = l->c;
    for (size_t i = 0; i < c->ndeployments; i++) {
        if (!c->deployments[i].model_id)
            continue;
        for (size_t j = 0; j < i; j++)
            if (c->deployments[j].model_id && !strcmp(c->deployments[i].model_id, c->deployments[j].model_id))
                return cfg_fail(l, id_nodes[i], "model_list[%zu].model_info.id: duplicate id '%s' (also on line %d): "
                            "expected unique ids", i, c->deployments[i].model_id, c->deployments[j].line);
    }
    size_t nd = c->ndeployments ? c->ndeployments : 1;
    uint64_t *hash = calloc(nd, sizeof *hash);
    bool *gen = calloc(nd, sizeof *gen);
    if (!hash || !gen) {
        free(hash);
        free(gen);
        return cfg_oom(l);
    }
    int rc = 0;
    for (size_t i = 0; i < c->ndeployments && rc == 0; i++) {
        config_deployment *d = &c->deployments[i];
        if (d->model_id)
            continue;
        const char *parts[] = {d->model_name, d->model, d->api_base};
        hash[i] = cfg_hash(parts, 3);
        gen[i] = true;
        /* The n-th identical entry gets "-n", counted without string
         * compares so thousands of aliased copies stay cheap. */
        unsigned suffix = 1;
        for (size_t j = 0; j < i; j++)
            suffix += gen[j] && hash[j] == hash[i];
        char id[48];
        for (bool taken = true; taken; suffix++) {
            if (suffix == 1)
                snprintf(id, sizeof id, "%016llx", (unsigned long long)hash[i]);
            else
                snprintf(id, sizeof id, "%016llx-%u", (unsigned long long)hash[i], suffix);
            taken = false;
            for (size_t j = 0; j < c->ndeployments && !taken; j++)
                taken = j != i && c->deployments[j].model_id && !strcmp(c->deployments[j].model_id, id);
        }
        if (!(d->model_id = strdup(id)))
            rc = cfg_oom(l);
    }
    free(hash);
    free(gen);
    return rc;
}

int cfg_model_list(ld *l, yaml_node_t *n)
{
    config *c = l->c;
    if (cfg_is_null(n))
        return cfg_fail(l, n, "model_list is empty: expected at least one entry with model_name and litellm_params");
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail(l, n, "model_list: expected a list of models, found %s", cfg_type_name(n));
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0)
        return cfg_fail(l, n, "model_list is empty: expected at least one entry with model_name and litellm_params");
    if (count > MAX_DEPLOYMENTS)
        return cfg_fail(l, n, "model_list has %zu entries: at most %d are supported", count, MAX_DEPLOYMENTS);
    c->deployments = calloc(count, sizeof *c->deployments);
    yaml_node_t **id_nodes = calloc(count, sizeof *id_nodes);
    if (!c->deployments || !id_nodes) {
        free(id_nodes);
        return cfg_oom(l);
    }
    int rc = -1;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *e = cfg_node(l, n->data.sequence.items.start[i]);
        if (!e || cfg_over_budget(l, n))
            goto out;
        c->ndeployments = i + 1; /* so config_free sees partial entries */
        if (deployment(l, e, i, &c->deployments[i], &id_nodes[i]) < 0)
            goto out;
    }
    rc = assign_ids(l, id_nodes);
out:
    free(id_nodes);
    return rc;
}
