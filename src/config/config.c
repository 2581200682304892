/* litellm_config.yaml loader: entry points, the top level and the settings
 * sections. The document is read whole with libyaml's document API (after a
 * cheap event pass that bounds nesting and counts documents), then walked
 * along the known structure only, so the walk's own depth is fixed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/config.h"
#include "config/config_int.h"

/* ---- litellm_settings / router_settings pieces --------------------------- */

static int add_callback(ld *l, yaml_node_t *at, const char *s, void *arg)
{
    (void)arg;
    config *c = l->c;
    for (size_t i = 0; i < c->ncallbacks; i++)
        if (!strcmp(c->callbacks[i], s))
            return 0;
    if (c->ncallbacks >= MAX_CALLBACKS)
        return cfg_fail(l, at, "more than %d callbacks", MAX_CALLBACKS);
    if (!strcmp(s, "prometheus"))
        c->prometheus_callback = true;
    else if (!strcmp(s, "otel"))
        c->otel_callback = true;
    else
        cfg_warn(l, at, "callback '%s' is not supported by tollgate (ignored); only 'prometheus' and 'otel' are", s);
    return cfg_push_str(l, &c->callbacks, &c->ncallbacks, s);
}

static bool is_model_name(const config *c, const char *s)
{
    for (size_t i = 0; i < c->ndeployments; i++)
        if (!strcmp(c->deployments[i].model_name, s))
            return true;
    return false;
}

static int add_fallback_to(ld *l, yaml_node_t *at, const char *s, void *arg)
{
    config_fallback *f = arg;
    if (++l->fallback_names > MAX_FALLBACK_NAMES)
        return cfg_fail(l, at, "more than %d model names in fallbacks", MAX_FALLBACK_NAMES);
    if (!is_model_name(l->c, s))
        cfg_warn(l, at, "fallback target '%s' is not a model_name in model_list", s);
    return cfg_push_str(l, &f->to, &f->nto, s);
}

/* LiteLLM's shape: [{"primary": ["fallback1", "fallback2"]}, ...], into
 * the list given (fallbacks or context_window_fallbacks). */
static int fallback_list(ld *l, yaml_node_t *n, const char *path, config_fallback **list, size_t *count)
{
    config *c = l->c;
    char where[96];
    if (cfg_is_null(n))
        return 0;
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail(l, n, "%s: expected a list like [{model_a: [model_b]}], found %s", path, cfg_type_name(n));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = cfg_node(l, *it);
        kvlist ps;
        if (!e || cfg_over_budget(l, n))
            return -1;
        snprintf(where, sizeof where, "%s[%zu]", path, (size_t)(it - n->data.sequence.items.start));
        if (e->type != YAML_MAPPING_NODE)
            return cfg_fail(l, e, "%s: expected a mapping like {model_a: [model_b]}, found %s", where,
                            cfg_type_name(e));
        if (cfg_pairs(l, e, where, &ps) < 0)
            return -1;
        for (size_t i = 0; i < ps.n; i++) {
            config_fallback *f = realloc(*list, (*count + 1) * sizeof *f);
            if (!f) {
                free(ps.v);
                return cfg_oom(l);
            }
            *list = f;
            f = &f[*count];
            memset(f, 0, sizeof *f);
            if (!(f->from = strdup(ps.v[i].k))) {
                free(ps.v);
                return cfg_oom(l);
            }
            (*count)++;
            if (++l->fallback_names > MAX_FALLBACK_NAMES) {
                cfg_fail(l, ps.v[i].key, "more than %d model names in fallbacks", MAX_FALLBACK_NAMES);
                free(ps.v);
                return -1;
            }
            if (strcmp(f->from, "*") && !is_model_name(c, f->from))
                cfg_warn(l, ps.v[i].key, "fallback source '%s' is not a model_name in model_list", f->from);
            if (cfg_str_list(l, ps.v[i].val, where, add_fallback_to, f) < 0) {
                free(ps.v);
                return -1;
            }
        }
        free(ps.v);
    }
    return 0;
}

static int add_default_fallback(ld *l, yaml_node_t *at, const char *s, void *arg)
{
    (void)arg;
    if (++l->fallback_names > MAX_FALLBACK_NAMES)
        return cfg_fail(l, at, "more than %d model names in fallbacks", MAX_FALLBACK_NAMES);
    if (!is_model_name(l->c, s))
        cfg_warn(l, at, "fallback target '%s' is not a model_name in model_list", s);
    return cfg_push_str(l, &l->c->default_fallbacks, &l->c->ndefault_fallbacks, s);
}

static bool is_fallback_key(const char *k)
{
    return !strcmp(k, "fallbacks") || !strcmp(k, "context_window_fallbacks") || !strcmp(k, "default_fallbacks");
}

/* fallbacks, context_window_fallbacks, default_fallbacks: the same in
 * litellm_settings and router_settings (is_fallback_key). */
static int any_fallbacks(ld *l, const kv *p, const char *path)
{
    config *c = l->c;
    if (!strcmp(p->k, "fallbacks"))
        return fallback_list(l, p->val, path, &c->fallbacks, &c->nfallbacks);
    if (!strcmp(p->k, "context_window_fallbacks"))
        return fallback_list(l, p->val, path, &c->context_window_fallbacks, &c->ncontext_window_fallbacks);
    return cfg_is_null(p->val) ? 0 : cfg_str_list(l, p->val, path, add_default_fallback, NULL);
}

static int buckets(ld *l, yaml_node_t *n, const char *path)
{
    config *c = l->c;
    const char *expect = "a list of increasing numbers of seconds, e.g. [0.1, 0.5, 1, 5]";
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail(l, n, "%s: expected %s, found %s", path, expect, cfg_type_name(n));
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0)
        return cfg_fail(l, n, "%s: expected %s, found an empty list", path, expect);
    if (count > MAX_BUCKETS + 1)
        return cfg_fail(l, n, "%s: %zu buckets: at most %d are supported", path, count, MAX_BUCKETS);
    free(c->latency_buckets);
    c->nlatency_buckets = 0;
    if (!(c->latency_buckets = calloc(count, sizeof *c->latency_buckets)))
        return cfg_oom(l);
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *e = cfg_node(l, n->data.sequence.items.start[i]);
        const char *s;
        double v;
        if (!e || cfg_over_budget(l, n))
            return -1;
        if (e->type != YAML_SCALAR_NODE)
            return cfg_fail(l, e, "%s: expected %s, found %s in it", path, expect, cfg_type_name(e));
        if (cfg_text(l, e, path, CFG_ENV_OPTIONAL, &s) < 0)
            return -1;
        if (!s)
            return cfg_fail(l, e, "%s: expected %s, found an empty item", path, expect);
        if (cfg_is_inf(s)) {
            /* +Inf is always the last bucket of the exposition; allow it
             * written out, but only at the end. */
            if (i + 1 != count)
                return cfg_fail(l, e, "%s: +Inf must be the last bucket", path);
            break;
        }
        if (!cfg_parse_double(s, &v) || v < 0)
            return cfg_fail(l, e, "%s: expected %s, found '%s'", path, expect, s);
        if (c->nlatency_buckets && v <= c->latency_buckets[c->nlatency_buckets - 1])
            return cfg_fail(l, e, "%s: expected %s; %s is not greater than the bucket before it", path, expect, s);
        c->latency_buckets[c->nlatency_buckets++] = v;
    }
    if (c->nlatency_buckets == 0)
        return cfg_fail(l, n, "%s: expected %s, found only +Inf", path, expect);
    return 0;
}

static int routing(ld *l, yaml_node_t *n, const char *path)
{
    static const struct {
        const char *name;
        config_routing r;
    } map[] = {
        {"simple-shuffle", ROUTING_SIMPLE_SHUFFLE},
        {"least-busy", ROUTING_LEAST_BUSY},
        {"latency-based-routing", ROUTING_LATENCY_BASED},
        {"usage-based-routing", ROUTING_USAGE_BASED},
        {"usage-based-routing-v2", ROUTING_USAGE_BASED},
    };
    const char *s;
    if (cfg_text(l, n, path, CFG_ENV_OPTIONAL, &s) < 0 || !s)
        return l->failed ? -1 : 0;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(s, map[i].name)) {
            l->c->routing_strategy = map[i].r;
            /* Parsed, but there is no usage-based router: say so (issue 15). */
            if (map[i].r == ROUTING_USAGE_BASED)
                cfg_warn(l, n, "routing_strategy '%s' is not implemented by tollgate; deployments are picked as "
                         "simple-shuffle does (weighted by rpm/tpm)", s);
            return 0;
        }
    if (!strcmp(s, "cost-based-routing")) {
        /* Local models cost nothing, so cost-based picks at random anyway. */
        cfg_warn(l, n, "routing_strategy 'cost-based-routing' is not supported by tollgate; using simple-shuffle");
        l->c->routing_strategy = ROUTING_SIMPLE_SHUFFLE;
        return 0;
    }
    return cfg_fail(l, n,
                    "%s: unknown routing strategy '%s': expected simple-shuffle, least-busy, latency-based-routing, "
                    "usage-based-routing or usage-based-routing-v2",
                    path, s);
}

/* ---- sections ------------------------------------------------------------ */

static int litellm_settings(ld *l, yaml_node_t *n)
{
    config *c = l->c;
    kvlist ps;
    char path[96];
    int rc = -1;
    if (cfg_pairs(l, n, "litellm_settings", &ps) < 0)
        return -1;
    for (size_t i = 0; i < ps.n; i++) {
        const kv *p = &ps.v[i];
        snprintf(path, sizeof path, "litellm_settings.%s", p->k);
        int r = 0;
        if (!strcmp(p->k, "callbacks") || !strcmp(p->k, "success_callback") || !strcmp(p->k, "failure_callback"))
            r = cfg_str_list(l, p->val, path, add_callback, NULL);
        else if (!strcmp(p->k, "request_timeout"))
            r = cfg_num(l, p->val, path, 0, true, "a number of seconds > 0", &c->request_timeout);
        else if (!strcmp(p->k, "num_retries"))
            r = cfg_int(l, p->val, path, &c->num_retries);
        else if (is_fallback_key(p->k))
            r = any_fallbacks(l, p, path);
        else if (!strcmp(p->k, "prometheus_latency_buckets"))
            r = cfg_is_null(p->val) ? 0 : buckets(l, p->val, path);
        else if (!strcmp(p->k, "require_auth_for_metrics_endpoint"))
            r = cfg_bool(l, p->val, path, &c->require_auth_for_metrics_endpoint);
        else
            cfg_ignored(l, p, "litellm_settings", "litellm_settings");
        if (r < 0)
            goto out;
    }
    rc = 0;
out:
    free(ps.v);
    return rc;
}

static int general_settings(ld *l, yaml_node_t *n)
{
    config *c = l->c;
    kvlist ps;
    char path[96];
    int rc = -1;
    if (cfg_pairs(l, n, "general_settings", &ps) < 0)
        return -1;
    for (size_t i = 0; i < ps.n; i++) {
        const kv *p = &ps.v[i];
        snprintf(path, sizeof path, "general_settings.%s", p->k);
        if (!strcmp(p->k, "master_key")) {
            if (cfg_str_dup(l, p->val, path, CFG_ENV_REQUIRED, &c->master_key) < 0)
                goto out;
            /* An empty key would silently mean "no auth". */
            if (!c->master_key || !*c->master_key) {
                cfg_fail(l, p->val, "%s: expected a non-empty key (remove the line to disable auth)", path);
                goto out;
            }
        } else if (!strcmp(p->k, "require_auth_for_metrics_endpoint")) {
            if (cfg_bool(l, p->val, path, &c->require_auth_for_metrics_endpoint) < 0)
                goto out;
        } else {
            cfg_ignored(l, p, "general_settings", "general_settings");
        }
    }
    rc = 0;
out:
    free(ps.v);
    return rc;
}

static int router_settings(ld *l, yaml_node_t *n)
{
    config *c = l->c;
    kvlist ps;
    char path[96];
    int rc = -1;
    if (cfg_pairs(l, n, "router_settings", &ps) < 0)
        return -1;
    for (size_t i = 0; i < ps.n; i++) {
        const kv *p = &ps.v[i];
        snprintf(path, sizeof path, "router_settings.%s", p->k);
        int r = 0;
        if (!strcmp(p->k, "routing_strategy"))
            r = routing(l, p->val, path);
        else if (!strcmp(p->k, "allowed_fails"))
            r = cfg_int(l, p->val, path, &c->allowed_fails);
        else if (!strcmp(p->k, "cooldown_time"))
            r = cfg_num(l, p->val, path, 0, false, "a number of seconds >= 0", &c->cooldown_time);
        else if (!strcmp(p->k, "num_retries"))
            r = cfg_int(l, p->val, path, &c->router_num_retries);
        else if (!strcmp(p->k, "timeout"))
            r = cfg_num(l, p->val, path, 0, true, "a number of seconds > 0", &c->router_timeout);
        else if (is_fallback_key(p->k))
            r = any_fallbacks(l, p, path);
        else
            cfg_ignored(l, p, "router_settings", "router_settings");
        if (r < 0)
            goto out;
    }
    rc = 0;
out:
    free(ps.v);
    return rc;
}

/* LiteLLM puts these into os.environ before reading the rest, so later
 * "os.environ/VAR" references see them (cfg_env_get looks here first). */
static int environment_variables(ld *l, yaml_node_t *n)
{
    config *c = l->c;
    kvlist ps;
    char path[160];
    int rc = -1;
    if (cfg_pairs(l, n, "environment_variables", &ps) < 0)
        return -1;
    for (size_t i = 0; i < ps.n; i++) {
        const kv *p = &ps.v[i];
        const char *v;
        snprintf(path, sizeof path, "environment_variables.%s", p->k);
        if (!*p->k || strchr(p->k, '=')) {
            cfg_fail(l, p->key, "environment_variables: '%s' is not a valid variable name", p->k);
            goto out;
        }
        if (cfg_text(l, p->val, path, CFG_ENV_OPTIONAL, &v) < 0)
            goto out;
        if (!v) {
            cfg_warn(l, p->key, "%s has no value (ignored)", path);
            continue;
        }
        char **names = realloc(c->env_names, (c->nenv + 1) * sizeof *names);
        if (names)
            c->env_names = names;
        char **values = names ? realloc(c->env_values, (c->nenv + 1) * sizeof *values) : NULL;
        if (values)
            c->env_values = values;
        char *nk = values ? strdup(p->k) : NULL, *nv = nk ? strdup(v) : NULL;
        if (!nv) {
            free(nk);
            cfg_oom(l);
            goto out;
        }
        c->env_names[c->nenv] = nk;
        c->env_values[c->nenv++] = nv;
    }
    rc = 0;
out:
    free(ps.v);
    return rc;
}

static const char *const unsupported_top[] = {
    "include", "credential_list", "guardrails", "mcp_servers", "callback_settings", "files_settings",
    "assistant_settings", "finetune_settings", "search_tools", "vector_store_registry", NULL,
};

static int top(ld *l, yaml_node_t *root)
{
    config *c = l->c;
    kvlist ps;
    int rc = -1;
    if (root->type != YAML_MAPPING_NODE)
        return cfg_fail(l, root, "expected a mapping with model_list at the top level, found %s",
                        cfg_type_name(root));
    if (cfg_pairs(l, root, "the top level", &ps) < 0)
        return -1;
    static const char *const order[] = {"environment_variables", "model_list", "general_settings",
                                        "litellm_settings", "router_settings"};
    kv *found[5] = {0};
    for (size_t i = 0; i < ps.n; i++) {
        size_t j;
        for (j = 0; j < 5; j++)
            if (!strcmp(ps.v[i].k, order[j]))
                break;
        if (j < 5) {
            found[j] = &ps.v[i];
            continue;
        }
        bool known = false;
        for (const char *const *u = unsupported_top; *u; u++)
            known |= !strcmp(*u, ps.v[i].k);
        if (known)
            cfg_warn(l, ps.v[i].key, "top-level key '%s' is not supported by tollgate (ignored)", ps.v[i].k);
        else
            cfg_warn(l, ps.v[i].key, "unknown top-level key '%s' (ignored)", ps.v[i].k);
    }
    if (found[0] && !cfg_is_null(found[0]->val) && environment_variables(l, found[0]->val) < 0)
        goto out;
    if (!found[1]) {
        cfg_fail(l, root, "missing model_list: expected a list of models, e.g. model_list: [{model_name: llama, "
                          "litellm_params: {model: ollama/llama3.2}}]");
        goto out;
    }
    if (cfg_model_list(l, found[1]->val) < 0)
        goto out;
    if (found[2] && !cfg_is_null(found[2]->val) && general_settings(l, found[2]->val) < 0)
        goto out;
    if (found[3] && !cfg_is_null(found[3]->val) && litellm_settings(l, found[3]->val) < 0)
        goto out;
    if (found[4] && !cfg_is_null(found[4]->val) && router_settings(l, found[4]->val) < 0)
        goto out;
    if (!c->master_key) {
        const char *k = cfg_env_get(l, "LITELLM_MASTER_KEY");
        if (k && *k && !(c->master_key = strdup(k))) {
            cfg_oom(l);
            goto out;
        }
    }
    rc = 0;
out:
    free(ps.v);
    return rc;
}

/* ---- entry points -------------------------------------------------------- */

static void fail_at(ld *l, yaml_mark_t m, const char *what, const char *detail)
{
    if (!l->failed && l->err && l->errlen)
        snprintf(l->err, l->errlen, "%s:%zu:%zu: %s%s%s", l->name, m.line + 1, m.column + 1, what,
                 detail ? ": " : "", detail ? detail : "");
    l->failed = true;
}

static void syntax_error(ld *l, const yaml_parser_t *p)
{
    char detail[256];
    snprintf(detail, sizeof detail, "%s%s%s", p->problem ? p->problem : "parse error", p->context ? " " : "",
             p->context ? p->context : "");
    fail_at(l, p->problem_mark, "invalid YAML", detail);
}

/* One cheap pass over the events: bounds nesting (so nothing downstream sees
 * a pathological tree) and refuses multi-document streams as PyYAML's
 * safe_load does. */
static int prescan(ld *l, const char *yaml, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int depth = 0, docs = 0, rc = 0;
    if (!yaml_parser_initialize(&p))
        return cfg_oom(l);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(l, &p);
            rc = -1;
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > CONFIG_MAX_DEPTH) {
                fail_at(l, ev.start_mark, "nesting too deep", "at most 64 levels are accepted");
                rc = -1;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            fail_at(l, ev.start_mark, "expected a single YAML document", "found a second one");
            rc = -1;
        }
        yaml_event_delete(&ev);
        if (rc < 0 || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

config *config_new_default(void)
{
    config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->request_timeout = 6000;
    c->num_retries = -1;
    c->routing_strategy = ROUTING_SIMPLE_SHUFFLE;
    c->allowed_fails = 3;
    c->cooldown_time = 5;
    c->router_num_retries = -1;
    return c;
}

config *config_load_string(const char *yaml, size_t len, const char *name, config_warn_fn warn, void *ud,
                           char *err, size_t errlen)
{
    ld l;
    yaml_parser_t p;
    bool have_parser = false;
    memset(&l, 0, sizeof l);
    l.name = name ? name : "<config>";
    l.warn = warn;
    l.ud = ud;
    l.err = err;
    l.errlen = errlen;
    if (err && errlen)
        err[0] = 0;
    config *c = config_new_default();
    if (!c) {
        cfg_oom(&l);
        return NULL;
    }
    l.c = c;

    if (len > CONFIG_MAX_BYTES) {
        cfg_fail(&l, NULL, "%zu bytes: at most %d are accepted", len, CONFIG_MAX_BYTES);
        goto done;
    }
    if (!yaml)
        yaml = "";
    if (prescan(&l, yaml, len) < 0)
        goto done;
    if (!yaml_parser_initialize(&p)) {
        cfg_oom(&l);
        goto done;
    }
    have_parser = true;
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&p, &l.doc)) {
        syntax_error(&l, &p);
        goto done;
    }
    l.have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&l.doc);
    if (!root) {
        cfg_fail(&l, NULL, "the config is empty: expected a mapping with model_list");
        goto done;
    }
    top(&l, root);
done:
    if (l.have_doc)
        yaml_document_delete(&l.doc);
    if (have_parser)
        yaml_parser_delete(&p);
    if (l.failed) {
        config_free(c);
        return NULL;
    }
    return c;
}

config *config_load_file(const char *path, config_warn_fn warn, void *ud, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    /* Read at most one byte past the limit, so pipes and /proc files work
     * and a huge file is refused without reading it all. */
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
    bool bad = ferror(f);
    fclose(f);
    config *c = NULL;
    if (bad) {
        if (err && errlen)
            snprintf(err, errlen, "%s: read error", path);
    } else if (n > CONFIG_MAX_BYTES) {
        if (err && errlen)
            snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
    } else {
        c = config_load_string(buf, n, path, warn, ud, err, errlen);
    }
    free(buf);
    return c;
}

static void free_strs(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void config_free(config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ndeployments; i++) {
        config_deployment *d = &c->deployments[i];
        free(d->model_name);
        free(d->model);
        free(d->provider_name);
        free(d->upstream_model);
        free(d->api_base);
        free(d->api_key);
        free(d->model_id);
    }
    free(c->deployments);
    free_strs(c->callbacks, c->ncallbacks);
    for (size_t i = 0; i < c->nfallbacks; i++) {
        free(c->fallbacks[i].from);
        free_strs(c->fallbacks[i].to, c->fallbacks[i].nto);
    }
    free(c->fallbacks);
    for (size_t i = 0; i < c->ncontext_window_fallbacks; i++) {
        free(c->context_window_fallbacks[i].from);
        free_strs(c->context_window_fallbacks[i].to, c->context_window_fallbacks[i].nto);
    }
    free(c->context_window_fallbacks);
    free_strs(c->default_fallbacks, c->ndefault_fallbacks);
    free(c->latency_buckets);
    free(c->master_key);
    free_strs(c->env_names, c->nenv);
    free_strs(c->env_values, c->nenv);
    free_strs(c->notes, c->nnotes);
    free(c);
}

int config_apply_env(const config *c)
{
    for (size_t i = 0; i < c->nenv; i++)
        if (setenv(c->env_names[i], c->env_values[i], 1) != 0)
            return -1;
    return 0;
}
