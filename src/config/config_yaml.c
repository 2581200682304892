/* YAML access for the config loader: messages with file:line, mapping
 * flattening with merge keys, and typed scalar reads with os.environ/VAR
 * resolution. Aliases can make the document a DAG (even a cycle through
 * merge keys), so every node visit is charged to a work budget. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/config.h"
#include "config/config_int.h"

/* ---- messages ---------------------------------------------------------- */

int cfg_fail(ld *l, const yaml_node_t *n, const char *fmt, ...)
{
    if (!l->failed && l->err && l->errlen) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (n)
            snprintf(l->err, l->errlen, "%s:%zu:%zu: %s", l->name, n->start_mark.line + 1, n->start_mark.column + 1,
                     msg);
        else
            snprintf(l->err, l->errlen, "%s: %s", l->name, msg);
    }
    l->failed = true;
    return -1;
}

int cfg_oom(ld *l) { return cfg_fail(l, NULL, "out of memory"); }

static void vmsg(ld *l, const yaml_node_t *n, bool note, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void vmsg(ld *l, const yaml_node_t *n, bool note, const char *fmt, va_list ap)
{
    char msg[512], line[640];
    vsnprintf(msg, sizeof msg, fmt, ap);
    snprintf(line, sizeof line, "%s:%zu: %s", l->name, n ? n->start_mark.line + 1 : 0, msg);
    if (!note) {
        if (l->warn)
            l->warn(l->ud, line);
        return;
    }
    config *c = l->c;
    if (c->nnotes >= 256) /* enough to debug; bounded for hostile input */
        return;
    char **nn = realloc(c->notes, (c->nnotes + 1) * sizeof *nn);
    if (!nn)
        return;
    c->notes = nn;
    if ((nn[c->nnotes] = strdup(line)))
        c->nnotes++;
}

void cfg_warn(ld *l, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(l, n, false, fmt, ap);
    va_end(ap);
}

void cfg_note(ld *l, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(l, n, true, fmt, ap);
    va_end(ap);
}

/* ---- node access ------------------------------------------------------- */

yaml_node_t *cfg_node(ld *l, int idx)
{
    l->work++;
    return yaml_document_get_node(&l->doc, idx);
}

bool cfg_over_budget(ld *l, const yaml_node_t *n)
{
    if (l->work <= MAX_WORK)
        return false;
    cfg_fail(l, n, "document too complex (aliases expand to more than %d nodes)", MAX_WORK);
    return true;
}

const char *cfg_type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}


/* YAML null: an empty or ~/null plain scalar. A quoted "" is a string. */
bool cfg_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = cfg_sval(n);
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int kv_add(ld *l, kvlist *out, const char *k, yaml_node_t *key, yaml_node_t *val)
{
    if (out->n >= MAX_KEYS)
        return cfg_fail(l, key, "more than %d keys in one mapping", MAX_KEYS);
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        kv *v = realloc(out->v, cap * sizeof *v);
        if (!v)
            return cfg_oom(l);
        out->v = v;
        out->cap = cap;
    }
    out->v[out->n++] = (kv){k, key, val};
    return 0;
}

static kv *kv_find(kvlist *list, const char *k)
{
    for (size_t i = 0; i < list->n; i++)
        if (!strcmp(list->v[i].k, k))
            return &list->v[i];
    return NULL;
}

static int collect(ld *l, yaml_node_t *map, kvlist *out, int depth, bool merged);

/* A "<<" value: a mapping or a list of mappings; earlier ones win. */
static int collect_merge(ld *l, yaml_node_t *v, kvlist *out, int depth)
{
    if (depth >= MAX_MERGE_DEPTH)
        return cfg_fail(l, v, "merge keys ('<<') nested deeper than %d", MAX_MERGE_DEPTH);
    if (v->type == YAML_MAPPING_NODE)
        return collect(l, v, out, depth + 1, true);
    if (v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
            yaml_node_t *m = cfg_node(l, *it);
            if (!m || cfg_over_budget(l, v))
                return -1;
            if (m->type != YAML_MAPPING_NODE)
                return cfg_fail(l, m, "expected a mapping to merge with '<<', found %s", cfg_type_name(m));
            if (collect(l, m, out, depth + 1, true) < 0)
                return -1;
        }
        return 0;
    }
    return cfg_fail(l, v, "expected a mapping or a list of mappings to merge with '<<', found %s", cfg_type_name(v));
}

/* Flattens a mapping into key/value pairs with YAML merge-key semantics as
 * PyYAML applies them: explicit keys win over merged ones; among explicit
 * duplicates the last wins (with a warning). */
static int collect(ld *l, yaml_node_t *map, kvlist *out, int depth, bool merged)
{
    size_t first = out->n;
    yaml_node_pair_t *p;
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cfg_node(l, p->key), *v = cfg_node(l, p->value);
        if (!k || !v || cfg_over_budget(l, map))
            return -1;
        if (k->type != YAML_SCALAR_NODE)
            return cfg_fail(l, k, "expected a string key, found %s", cfg_type_name(k));
        if (strlen(cfg_sval(k)) != k->data.scalar.length)
            return cfg_fail(l, k, "key contains a NUL byte");
        if (!strcmp(cfg_sval(k), "<<") && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            continue;
        kv *prev = kv_find(out, cfg_sval(k));
        if (prev && (size_t)(prev - out->v) >= first) {
            if (!merged)
                cfg_warn(l, k, "duplicate key '%s' (line %zu); the later one is used", cfg_sval(k),
                      prev->key->start_mark.line + 1);
            prev->key = k;
            prev->val = v;
        } else if (!prev && kv_add(l, out, cfg_sval(k), k, v) < 0) {
            return -1;
        }
    }
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cfg_node(l, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp(cfg_sval(k), "<<") &&
            k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
            yaml_node_t *v = cfg_node(l, p->value);
            if (!v || collect_merge(l, v, out, depth) < 0)
                return -1;
        }
    }
    return 0;
}

/* Pairs of a mapping node; `what` names it in the error when it is not one. */
int cfg_pairs(ld *l, yaml_node_t *n, const char *what, kvlist *out)
{
    out->v = NULL;
    out->n = out->cap = 0;
    if (n->type != YAML_MAPPING_NODE)
        return cfg_fail(l, n, "%s: expected a mapping, found %s", what, cfg_type_name(n));
    if (collect(l, n, out, 0, false) < 0) {
        free(out->v);
        out->v = NULL;
        return -1;
    }
    return 0;
}

/* ---- values ------------------------------------------------------------ */

/* Looks a variable up the way LiteLLM sees it: the file's
 * environment_variables are already in os.environ when the rest is read. */
const char *cfg_env_get(ld *l, const char *name)
{
    for (size_t i = l->c->nenv; i-- > 0;)
        if (!strcmp(l->c->env_names[i], name))
            return l->c->env_values[i];
    return getenv(name);
}


/* Scalar text of n with "os.environ/VAR" resolved. *out = NULL when the
 * value is null or names a missing optional variable (warned). */
int cfg_text(ld *l, yaml_node_t *n, const char *path, int env, const char **out)
{
    *out = NULL;
    if (n->type != YAML_SCALAR_NODE)
        return cfg_fail(l, n, "%s: expected a string, found %s", path, cfg_type_name(n));
    if (cfg_is_null(n))
        return 0;
    const char *s = cfg_sval(n);
    if (strlen(s) != n->data.scalar.length)
        return cfg_fail(l, n, "%s: string contains a NUL byte", path);
    if (strncmp(s, ENV_PREFIX, strlen(ENV_PREFIX)) != 0) {
        *out = s;
        return 0;
    }
    const char *var = s + strlen(ENV_PREFIX);
    if (!*var)
        return cfg_fail(l, n, "%s: expected a variable name after 'os.environ/'", path);
    const char *v = cfg_env_get(l, var);
    if (v) {
        *out = v;
        return 0;
    }
    if (env == CFG_ENV_REQUIRED)
        return cfg_fail(l, n, "%s: environment variable '%s' is not set", path, var);
    cfg_warn(l, n, "environment variable '%s' is not set; %s is treated as unset", var, path);
    return 0;
}

int cfg_str_dup(ld *l, yaml_node_t *n, const char *path, int env, char **dst)
{
    const char *s;
    if (cfg_text(l, n, path, env, &s) < 0)
        return -1;
    free(*dst);
    *dst = NULL;
    if (s && !(*dst = strdup(s)))
        return cfg_oom(l);
    return 0;
}

/* A number of seconds (or a price) >= min (> min when strict). */
int cfg_num(ld *l, yaml_node_t *n, const char *path, double min, bool strict, const char *expect, double *dst)
{
    const char *s;
    double v;
    if (n->type != YAML_SCALAR_NODE)
        return cfg_fail(l, n, "%s: expected %s, found %s", path, expect, cfg_type_name(n));
    if (cfg_text(l, n, path, CFG_ENV_OPTIONAL, &s) < 0)
        return -1;
    if (!s)
        return 0;
    if (!cfg_parse_double(s, &v))
        return cfg_fail(l, n, "%s: expected %s, found '%s'", path, expect, s);
    if (strict ? v <= min : v < min)
        return cfg_fail(l, n, "%s: expected %s, found %s", path, expect, s);
    *dst = v;
    return 0;
}

int cfg_whole(ld *l, yaml_node_t *n, const char *path, long max, long *dst)
{
    const char *s;
    long v;
    if (n->type != YAML_SCALAR_NODE)
        return cfg_fail(l, n, "%s: expected a whole number >= 0, found %s", path, cfg_type_name(n));
    if (cfg_text(l, n, path, CFG_ENV_OPTIONAL, &s) < 0)
        return -1;
    if (!s)
        return 0;
    if (!cfg_parse_long(s, &v) || v < 0 || v > max)
        return cfg_fail(l, n, "%s: expected a whole number between 0 and %ld, found '%s'", path, max, s);
    *dst = v;
    return 0;
}

int cfg_int(ld *l, yaml_node_t *n, const char *path, int *dst)
{
    long v = *dst;
    if (cfg_whole(l, n, path, 1000000, &v) < 0)
        return -1;
    *dst = (int)v;
    return 0;
}

int cfg_bool(ld *l, yaml_node_t *n, const char *path, bool *dst)
{
    const char *s;
    if (n->type != YAML_SCALAR_NODE)
        return cfg_fail(l, n, "%s: expected true or false, found %s", path, cfg_type_name(n));
    if (cfg_text(l, n, path, CFG_ENV_OPTIONAL, &s) < 0)
        return -1;
    if (!s)
        return 0;
    if (!cfg_parse_bool(s, dst))
        return cfg_fail(l, n, "%s: expected true or false, found '%s'", path, s);
    return 0;
}

int cfg_push_str(ld *l, char ***arr, size_t *n, const char *s)
{
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a)
        return cfg_oom(l);
    *arr = a;
    if (!(a[*n] = strdup(s)))
        return cfg_oom(l);
    (*n)++;
    return 0;
}

/* A string or a list of strings; calls add() for each non-null one. */
int cfg_str_list(ld *l, yaml_node_t *n, const char *path, int (*add)(ld *, yaml_node_t *, const char *, void *),
                    void *arg)
{
    const char *s;
    if (n->type == YAML_SCALAR_NODE) {
        if (cfg_text(l, n, path, CFG_ENV_OPTIONAL, &s) < 0)
            return -1;
        return s ? add(l, n, s, arg) : 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail(l, n, "%s: expected a list of strings, found %s", path, cfg_type_name(n));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = cfg_node(l, *it);
        if (!e || cfg_over_budget(l, n))
            return -1;
        if (e->type != YAML_SCALAR_NODE)
            return cfg_fail(l, e, "%s: expected a list of strings, found %s in it", path, cfg_type_name(e));
        if (cfg_text(l, e, path, CFG_ENV_OPTIONAL, &s) < 0)
            return -1;
        if (s && add(l, e, s, arg) < 0)
            return -1;
    }
    return 0;
}

/* ---- known-but-ignored keys -------------------------------------------- */

/* Keys LiteLLM has that change nothing Tollgate does: a debug note only. */
static const char *const harmless[] = {
    "litellm_params.api_version", "litellm_params.drop_params", "litellm_params.organization",
    "litellm_settings.drop_params", "litellm_settings.set_verbose", "litellm_settings.json_logs",
    "litellm_settings.turn_off_message_logging", "litellm_settings.redact_user_api_key_info",
    "litellm_settings.modify_params", "litellm_settings.telemetry", "litellm_settings.suppress_debug_info",
    "litellm_settings.enable_preview_features", "litellm_settings.force_ipv4",
    "general_settings.database_url", "general_settings.database_connection_pool_limit",
    "general_settings.database_connection_timeout", "general_settings.disable_spend_logs",
    "general_settings.disable_error_logs", "general_settings.store_model_in_db",
    "general_settings.background_health_checks", "general_settings.health_check_interval",
    "general_settings.health_check_details", "general_settings.proxy_batch_write_at",
    "general_settings.disable_adding_master_key_hash_to_db", "general_settings.allow_requests_on_db_unavailable",
    "general_settings.maximum_spend_logs_retention_period", "general_settings.disable_reset_budget",
    "general_settings.proxy_budget_rescheduler_min_time", "general_settings.proxy_budget_rescheduler_max_time",
    "general_settings.ui_access_mode", "general_settings.disable_master_key_return",
    "router_settings.redis_host", "router_settings.redis_port", "router_settings.redis_password",
    "router_settings.redis_url", "router_settings.enable_pre_call_checks", "router_settings.cache_responses",
    NULL,
};

/* Keys LiteLLM has that would change behaviour Tollgate does not implement:
 * named as unsupported rather than unknown, so nobody hunts for a typo. */
static const char *const unsupported[] = {
    "litellm_settings.cache", "litellm_settings.cache_params",
    "litellm_settings.content_policy_fallbacks",
    "litellm_settings.service_callback", "litellm_settings.prometheus_metrics_config",
    "litellm_settings.custom_prometheus_metadata_labels", "litellm_settings.custom_prometheus_tags",
    "litellm_settings.enable_end_user_cost_tracking_prometheus_only", "litellm_settings.max_budget",
    "litellm_settings.budget_duration", "litellm_settings.guardrails", "litellm_settings.default_team_settings",
    "general_settings.alerting", "general_settings.alerting_threshold", "general_settings.always_include_stream_usage",
    "general_settings.pass_through_endpoints", "general_settings.enforce_user_param",
    "general_settings.custom_auth", "general_settings.allowed_routes",
    "router_settings.model_group_alias", "router_settings.retry_policy", "router_settings.allowed_fails_policy",
    "router_settings.routing_strategy_args", "router_settings.enable_tag_filtering",
   
    NULL,
};

static bool in_list(const char *const *list, const char *section, const char *key)
{
    size_t sl = strlen(section);
    for (; *list; list++)
        if (!strncmp(*list, section, sl) && (*list)[sl] == '.' && !strcmp(*list + sl + 1, key))
            return true;
    return false;
}

bool cfg_is_harmless(const char *section, const char *key) { return in_list(harmless, section, key); }

/* Everything not handled by a section: a note for harmless LiteLLM keys, a
 * warning for everything else (unknown, or known but unsupported). */
void cfg_ignored(ld *l, const kv *p, const char *section, const char *shown)
{
    if (cfg_is_harmless(section, p->k))
        cfg_note(l, p->key, "%s.%s has no effect in tollgate (ignored)", shown, p->k);
    else if (in_list(unsupported, section, p->k))
        cfg_warn(l, p->key, "key '%s' in %s is not supported by tollgate (ignored)", p->k, shown);
    else
        cfg_warn(l, p->key, "unknown key '%s' in %s (ignored)", p->k, shown);
}

