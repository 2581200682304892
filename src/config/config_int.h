/* Internals shared by the config loader's files; not part of the API.
 *   config_yaml.c    YAML access: messages, merge keys, typed scalar reads
 *   config_models.c  model_list
 *   config.c         settings sections, entry points, free
 *   config_util.c    scalar parsing, OLLAMA_HOST, hashing */
#ifndef TOLLGATE_CONFIG_INT_H
#define TOLLGATE_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "config/config.h"

#define MAX_WORK 200000 /* node visits, including alias re-visits */
#define MAX_DEPLOYMENTS 4096
#define MAX_BUCKETS 64
#define MAX_MERGE_DEPTH 8
/* Lookups below are linear scans; these caps keep hostile input from making
 * them quadratic in the file size. Real configs are far below them. */
#define MAX_KEYS 512       /* keys in one mapping, merged keys included */
#define MAX_CALLBACKS 64
#define MAX_FALLBACK_NAMES 1024
#define ENV_PREFIX "os.environ/"

/* One key of a flattened mapping (merge keys applied). k is the key text. */
typedef struct {
    const char *k;
    yaml_node_t *key, *val;
} kv;

typedef struct {
    kv *v;
    size_t n, cap;
} kvlist;

/* Loader state for one document. */
typedef struct {
    const char *name; /* file name for messages */
    yaml_document_t doc;
    bool have_doc;
    config_warn_fn warn;
    void *ud;
    char *err;
    size_t errlen;
    config *c;
    bool failed;
    size_t work;           /* node visits so far (MAX_WORK) */
    size_t fallback_names; /* MAX_FALLBACK_NAMES */
} ld;

/* Messages. cfg_fail records the first error as "file:line:col: msg" and
 * returns -1; cfg_warn goes to the caller's callback as "file:line: msg";
 * cfg_note keeps a debug-level message in config.notes. */
int cfg_fail(ld *l, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cfg_oom(ld *l);
void cfg_warn(ld *l, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cfg_note(ld *l, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Node access; every call is charged to the work budget. */
yaml_node_t *cfg_node(ld *l, int idx);
bool cfg_over_budget(ld *l, const yaml_node_t *n); /* true (and fails) once over MAX_WORK */
const char *cfg_type_name(const yaml_node_t *n);
static inline const char *cfg_sval(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }
bool cfg_is_null(const yaml_node_t *n);
/* Flattens mapping n; `what` names it in errors. The caller frees out->v. */
int cfg_pairs(ld *l, yaml_node_t *n, const char *what, kvlist *out);

/* Typed reads. `path` names the value in messages ("model_list[0].litellm_params.timeout").
 * A null value leaves *dst as it was. "os.environ/VAR" is resolved first: a
 * missing VAR fails with CFG_ENV_REQUIRED, else warns and leaves *dst. */
enum { CFG_ENV_OPTIONAL, CFG_ENV_REQUIRED };
const char *cfg_env_get(ld *l, const char *name); /* file's environment_variables, then getenv */
int cfg_text(ld *l, yaml_node_t *n, const char *path, int env, const char **out);
int cfg_str_dup(ld *l, yaml_node_t *n, const char *path, int env, char **dst);
int cfg_num(ld *l, yaml_node_t *n, const char *path, double min, bool strict, const char *expect, double *dst);
int cfg_whole(ld *l, yaml_node_t *n, const char *path, long max, long *dst);
int cfg_int(ld *l, yaml_node_t *n, const char *path, int *dst);
int cfg_bool(ld *l, yaml_node_t *n, const char *path, bool *dst);
int cfg_push_str(ld *l, char ***arr, size_t *n, const char *s);
/* A string or a list of strings: add() is called for each non-null one. */
int cfg_str_list(ld *l, yaml_node_t *n, const char *path, int (*add)(ld *, yaml_node_t *, const char *, void *),
                 void *arg);

/* Keys LiteLLM has that change nothing here ("litellm_settings", "drop_params"). */
bool cfg_is_harmless(const char *section, const char *key);
/* A key no section handles: a note when harmless, else a warning. */
void cfg_ignored(ld *l, const kv *p, const char *section, const char *shown);

int cfg_model_list(ld *l, yaml_node_t *n);

/* Strict scalar conversions: the whole string must be consumed. */
bool cfg_parse_double(const char *s, double *out); /* finite only */
bool cfg_parse_long(const char *s, long *out);     /* base 10, optional sign */
bool cfg_parse_bool(const char *s, bool *out);     /* YAML 1.1 words, as PyYAML */
bool cfg_is_inf(const char *s);                    /* ".inf", "+Inf", "inf" ... */

/* FNV-1a 64 over several strings (each followed by a 0 byte): a stable id. */
uint64_t cfg_hash(const char *const *parts, size_t n);

/* True when s is an http:// or https:// URL with a non-empty host. */
bool cfg_is_http_url(const char *s);

#endif
