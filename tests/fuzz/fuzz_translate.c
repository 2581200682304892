/* libFuzzer: translation. The first byte picks kind, source and client
 * options; the rest is used twice: as a client request body for
 * tr_build_request, and as an upstream response body fed in random splits
 * to a tr_stream (and to tr_upstream_error). Nothing may crash or leak,
 * and a stream must end either done or failed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "translate/translate.h"
#include "translate/tr_int.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Differential: the byte-level fast paths (src/translate/fast.c) against
 * the jansson paths they stand in for (the scanners themselves:
 * fuzz_json_scan.c). A fast path may decline; when it
 * answers, jansson must agree exactly. */
static void fast_vs_jansson(tr_kind kind, unsigned sel, const char *s, size_t n)
{
    char model[64];
    if (tr_request_model(s, n, model, sizeof model)) {
        json_t *j = json_loadb(s, n, 0, NULL);
        const char *m = json_string_value(json_object_get(j, "model"));
        if (!json_is_object(j) || !m || strcmp(m, model))
            abort();
        json_decref(j);
    }

    /* The request for an OpenAI-compatible upstream: same fields, same
     * info (outputs compared as JSON values: the fast path keeps the
     * client's bytes, jansson re-serialises). */
    buf fo, so;
    buf_init(&fo);
    buf_init(&so);
    tr_request_info fi, si;
    tr_error fe, se;
    int frc = tr_build_request(kind, TR_SRC_OPENAI, s, n, "up/m\\\"", &fo, &fi, &fe);
    tr_fast_disabled = true;
    int src = tr_build_request(kind, TR_SRC_OPENAI, s, n, "up/m\\\"", &so, &si, &se);
    tr_fast_disabled = false;
    if (frc != src || memcmp(&fi, &si, sizeof fi) || (frc && memcmp(&fe, &se, sizeof fe)))
        abort();
    if (frc == 0) {
        json_t *a = json_loadb(fo.data, fo.len, 0, NULL), *b = json_loadb(so.data, so.len, 0, NULL);
        if (!a || !b || !json_equal(a, b))
            abort();
        json_decref(a);
        json_decref(b);
    }
    buf_free(&fo);
    buf_free(&so);

    /* A whole non-streaming OpenAI body: same stats and output. */
    tr_request_info info = {0};
    tr_stream *ft = tr_stream_new(kind == TR_EMBEDDING ? TR_CHAT : kind, TR_SRC_OPENAI, &info, "alias");
    tr_stream *st = tr_stream_new(kind == TR_EMBEDDING ? TR_CHAT : kind, TR_SRC_OPENAI, &info, "alias");
    if (ft && st) {
        buf_init(&fo);
        buf_init(&so);
        (void)tr_stream_feed(ft, s, n, &fo);
        (void)tr_stream_feed(st, s, n, &so);
        frc = tr_stream_finish(ft, &fo);
        tr_fast_disabled = true;
        src = tr_stream_finish(st, &so);
        tr_fast_disabled = false;
        tr_stats *a = tr_stream_stats(ft), *b = tr_stream_stats(st);
        if (frc != src || a->done != b->done || a->failed != b->failed || a->have_usage != b->have_usage ||
            a->prompt_tokens != b->prompt_tokens || a->completion_tokens != b->completion_tokens ||
            a->completion_tokens_estimate != b->completion_tokens_estimate || a->token_seen != b->token_seen ||
            strcmp(a->finish_reason, b->finish_reason) || fo.len != so.len || memcmp(fo.data, so.data, fo.len))
            abort();
        buf_free(&fo);
        buf_free(&so);
    }
    tr_stream_free(ft);
    tr_stream_free(st);
    (void)sel;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned sel = data[0], seed = data[1];
    const char *s = (const char *)data + 2;
    size_t n = size - 2;
    tr_kind kind = (tr_kind)(sel % 3);
    tr_source src = (sel >> 2) & 1 ? TR_SRC_OPENAI : TR_SRC_OLLAMA;
    fast_vs_jansson(kind, sel, s, n);

    buf out;
    buf_init(&out);
    tr_request_info info;
    tr_error err;
    if (tr_build_request(kind, src, s, n, "m", &out, &info, &err) != 0) {
        if (err.status < 400 || !err.message[0])
            abort();
    }
    buf_free(&out);

    info.stream = (sel >> 3) & 1;
    info.include_usage = (sel >> 4) & 1;
    info.embed_base64 = (sel >> 5) & 1;
    tr_stream *t = tr_stream_new(kind, src, &info, "alias");
    if (!t)
        return 0;
    buf_init(&out);
    for (size_t i = 0; i < n;) {
        seed = seed * 1103515245u + 12345u;
        size_t step = 1 + (seed >> 16) % 97;
        if (step > n - i)
            step = n - i;
        (void)tr_stream_feed(t, s + i, step, &out);
        i += step;
    }
    int rc = tr_stream_finish(t, &out);
    tr_stats *st = tr_stream_stats(t);
    if ((rc == 0) != (st->done && !st->failed))
        abort();
    tr_stream_free(t);
    buf_reset(&out);
    (void)tr_upstream_error(src, (sel >> 6) & 1 ? "ollama" : NULL, (int)(seed % 600), s, n, &out);
    buf_free(&out);
    return 0;
}
