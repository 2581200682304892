/* The simulator's model-management routes (research/ollama.md §1.14):
 * /api/pull, /api/push and /api/create (progress streams ending in
 * {"status":"success"}, what ollama-js waits for, §6.1), /api/copy,
 * /api/delete and /api/blobs/:digest, answered the way Ollama answers them.
 * The model list itself is fixed at start: a pull, create, copy or delete
 * does not change what /api/tags lists (docs/sim.md). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sim/internal.h"

static const char *name_of(json_t *root, const char *a, const char *b)
{
    const char *s = json_string_value(json_object_get(root, a));
    return s && *s ? s : json_string_value(json_object_get(root, b));
}

static void not_found(conn *c, const char *name)
{
    char norm[300], msg[400];
    sim_model_normalize(name, strlen(name), norm, sizeof norm);
    snprintf(msg, sizeof msg, "model '%s' not found", norm);
    sim_respond_error(c, false, false, 404, msg);
}

/* Sends the progress lines in b (NDJSON), or with "stream":false only the
 * last one, {"status":"success"}, as one JSON body. */
static void progress(conn *c, json_t *root, buf *b)
{
    if (json_is_false(json_object_get(root, "stream"))) {
        static const char ok[] = "{\"status\":\"success\"}";
        conn_respond(c, 200, "application/json; charset=utf-8", NULL, ok, sizeof ok - 1);
        return;
    }
    buf_puts(b, "{\"status\":\"success\"}\n");
    conn_stream_begin(c, 200, "application/x-ndjson", NULL);
    conn_stream_write(c, b->data, b->len);
    conn_stream_end(c);
}

/* One layer's transfer, at 0 and at its full size. */
static void layer(buf *b, const char *verb, const char *digest, long long size)
{
    for (int i = 0; i < 2; i++)
        buf_printf(b, "{\"status\":\"%s %.12s\",\"digest\":\"sha256:%s\",\"total\":%lld,\"completed\":%lld}\n", verb,
                   digest, digest, size, i ? size : 0LL);
}

static const sim_model_info *installed(sim_ctx *ctx, const char *name)
{
    int m = name ? sim_sched_find(ctx->sched, name, strlen(name)) : -1;
    return m >= 0 ? sim_sched_model(ctx->sched, m) : NULL;
}

static void pull(sim_ctx *ctx, conn *c, json_t *root)
{
    const char *name = name_of(root, "model", "name");
    if (!name || !*name) {
        sim_respond_error(c, false, false, 400, "model is required");
        return;
    }
    const sim_model_info *mi = installed(ctx, name);
    buf b;
    buf_init(&b);
    buf_puts(&b, "{\"status\":\"pulling manifest\"}\n");
    layer(&b, "pulling", mi ? mi->digest : "6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa",
          mi ? (long long)mi->size : 2019393189LL);
    buf_puts(&b, "{\"status\":\"verifying sha256 digest\"}\n{\"status\":\"writing manifest\"}\n");
    progress(c, root, &b);
    buf_free(&b);
}

/* Push: only an installed model (the registry itself is not simulated). */
static void push(sim_ctx *ctx, conn *c, json_t *root)
{
    const char *name = name_of(root, "model", "name");
    const sim_model_info *mi = installed(ctx, name);
    if (!name || !*name) {
        sim_respond_error(c, false, false, 400, "model is required");
        return;
    }
    if (!mi) {
        not_found(c, name);
        return;
    }
    buf b;
    buf_init(&b);
    buf_puts(&b, "{\"status\":\"retrieving manifest\"}\n");
    layer(&b, "pushing", mi->digest, (long long)mi->size);
    buf_puts(&b, "{\"status\":\"pushing manifest\"}\n");
    progress(c, root, &b);
    buf_free(&b);
}

/* Create: from an installed model ("from") or from uploaded blobs
 * ("files", name -> digest); the layers are reported as already there. */
static void create(sim_ctx *ctx, conn *c, json_t *root)
{
    const char *name = name_of(root, "model", "name");
    const char *from = json_string_value(json_object_get(root, "from"));
    json_t *files = json_object_get(root, "files");
    if (!name || !*name) {
        sim_respond_error(c, false, false, 400, "model is required");
        return;
    }
    if ((!from || !*from) && json_object_size(files) == 0) {
        sim_respond_error(c, false, false, 400, "neither 'from' or 'files' was specified");
        return;
    }
    const sim_model_info *mi = from && *from ? installed(ctx, from) : NULL;
    if (from && *from && !mi) {
        not_found(c, from);
        return;
    }
    buf b;
    buf_init(&b);
    if (mi) {
        buf_printf(&b, "{\"status\":\"using existing layer sha256:%s\"}\n", mi->digest);
    } else {
        buf_puts(&b, "{\"status\":\"parsing GGUF\"}\n");
        const char *key;
        json_t *v;
        json_object_foreach(files, key, v)
        {
            const char *d = json_string_value(v);
            if (d && !strncmp(d, "sha256:", 7))
                buf_printf(&b, "{\"status\":\"using existing layer %.100s\"}\n", d);
        }
    }
    buf_puts(&b, "{\"status\":\"writing manifest\"}\n");
    progress(c, root, &b);
    buf_free(&b);
}

bool sim_manage(sim_ctx *ctx, conn *c, const http_request *req, const char *path, const char *body, size_t len)
{
    if (!strcmp(path, "/api/blobs/")) {
        /* A blob "exists" when it is one of the installed models' digests. */
        const char *d = req->target + strlen(path);
        size_t dn = req->path_len - strlen(path);
        if (http_method_is(req, "POST")) {
            conn_respond(c, 201, NULL, NULL, "", 0);
            return true;
        }
        bool found = false;
        for (int i = 0; i < sim_sched_model_count(ctx->sched) && !found; i++) {
            const sim_model_info *mi = sim_sched_model(ctx->sched, i);
            found = dn == 71 && !strncmp(d, "sha256:", 7) && !strncmp(d + 7, mi->digest, 64);
        }
        conn_respond(c, found ? 200 : 404, NULL, NULL, "", 0);
        return true;
    }
    bool is_pull = !strcmp(path, "/api/pull"), is_copy = !strcmp(path, "/api/copy"),
         is_delete = !strcmp(path, "/api/delete"), is_push = !strcmp(path, "/api/push"),
         is_create = !strcmp(path, "/api/create");
    if (!is_pull && !is_copy && !is_delete && !is_push && !is_create)
        return false;
    if (len == 0) {
        sim_respond_error(c, false, false, 400, "missing request body");
        return true;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        sim_respond_error(c, false, false, 400, "unexpected EOF");
        return true;
    }
    if (is_pull) {
        pull(ctx, c, root);
    } else if (is_push) {
        push(ctx, c, root);
    } else if (is_create) {
        create(ctx, c, root);
    } else if (is_copy) {
        const char *src = json_string_value(json_object_get(root, "source"));
        const char *dst = json_string_value(json_object_get(root, "destination"));
        if (!src || !*src || !dst || !*dst)
            sim_respond_error(c, false, false, 400, "source and destination are required");
        else if (sim_sched_find(ctx->sched, src, strlen(src)) < 0)
            not_found(c, src);
        else
            conn_respond(c, 200, NULL, NULL, "", 0);
    } else {
        const char *name = name_of(root, "model", "name");
        if (!name || !*name)
            sim_respond_error(c, false, false, 400, "model is required");
        else if (sim_sched_find(ctx->sched, name, strlen(name)) < 0)
            not_found(c, name);
        else
            conn_respond(c, 200, NULL, NULL, "", 0);
    }
    json_decref(root);
    return true;
}
