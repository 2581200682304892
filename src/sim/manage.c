/* The simulator's model-management routes (research/ollama.md §1.14):
 * /api/pull (a progress stream), /api/copy, /api/delete and
 * /api/blobs/:digest, answered the way Ollama answers them. The model list
 * itself is fixed at start: a pull, copy or delete does not change what
 * /api/tags lists (docs/sim.md). */
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

static void pull(sim_ctx *ctx, conn *c, json_t *root)
{
    const char *name = name_of(root, "model", "name");
    if (!name || !*name) {
        sim_respond_error(c, false, false, 400, "model is required");
        return;
    }
    int m = sim_sched_find(ctx->sched, name, strlen(name));
    const sim_model_info *mi = m >= 0 ? sim_sched_model(ctx->sched, m) : NULL;
    const char *digest = mi ? mi->digest : "6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa";
    long long size = mi ? (long long)mi->size : 2019393189LL;
    json_t *st = json_object_get(root, "stream");
    buf b;
    buf_init(&b);
    if (json_is_false(st)) {
        buf_puts(&b, "{\"status\":\"success\"}");
        conn_respond(c, 200, "application/json; charset=utf-8", NULL, b.data, b.len);
        buf_free(&b);
        return;
    }
    buf_puts(&b, "{\"status\":\"pulling manifest\"}\n");
    for (int i = 0; i < 2; i++)
        buf_printf(&b, "{\"status\":\"pulling %.12s\",\"digest\":\"sha256:%s\",\"total\":%lld,\"completed\":%lld}\n",
                   digest, digest, size, i ? size : 0LL);
    buf_puts(&b, "{\"status\":\"verifying sha256 digest\"}\n{\"status\":\"writing manifest\"}\n"
                 "{\"status\":\"success\"}\n");
    conn_stream_begin(c, 200, "application/x-ndjson", NULL);
    conn_stream_write(c, b.data, b.len);
    conn_stream_end(c);
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
         is_delete = !strcmp(path, "/api/delete");
    if (!is_pull && !is_copy && !is_delete)
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
