/* The bytes Ollama sends, field by field in Go struct order
 * (research/ollama.md §1.6-1.13, §2). Zero metrics are omitted (Go
 * omitempty); native bodies have no trailing newline, /v1 bodies do. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/internal.h"

#define NATIVE_JSON "application/json; charset=utf-8"
#define V1_JSON "application/json"

const char *sim_stream_ctype(const sim_job *j) { return j->v1 ? "text/event-stream" : "application/x-ndjson"; }

static void created_at(const sim_job *j, buf *out)
{
    struct timespec ts;
    if (j->ctx->cfg.fixed_clock)
        ts = (struct timespec){.tv_sec = (time_t)SIM_FIXED_EPOCH};
    else
        clock_gettime(CLOCK_REALTIME, &ts);
    char t[64];
    size_t n = sim_fmt_time(t, sizeof t, (int64_t)ts.tv_sec, ts.tv_nsec, true);
    buf_puts(out, "\"created_at\":\"");
    buf_append(out, t, n);
    buf_putc(out, '"');
}

static void model_field(sim_job *j, buf *out)
{
    buf_puts(out, "\"model\":");
    sim_json_str(out, j->model_echo, strlen(j->model_echo));
}

static void text_json(sim_job *j, buf *out, int from, int to)
{
    buf text;
    buf_init(&text);
    for (int i = from; i < to; i++)
        sim_token_text(&text, j->seed, i);
    sim_json_str(out, text.data ? text.data : "", text.len);
    buf_free(&text);
}

static void v1_head(sim_job *j, buf *out, const char *object)
{
    buf_printf(out, "{\"id\":\"%s-%d\",\"object\":\"%s\",\"created\":%lld,", j->ep == SIM_EP_V1_CHAT ? "chatcmpl" : "cmpl",
               j->id_num, object, (long long)j->created);
    if (j->ep == SIM_EP_V1_CHAT) {
        model_field(j, out);
        buf_puts(out, ",\"system_fingerprint\":\"fp_ollama\",");
    }
}

/* /v1/completions puts model and system_fingerprint after choices. */
static void v1_completion_tail(sim_job *j, buf *out, bool zero_usage)
{
    buf_putc(out, ',');
    model_field(j, out);
    buf_puts(out, ",\"system_fingerprint\":\"fp_ollama\"");
    if (zero_usage)
        buf_puts(out, ",\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}");
    buf_putc(out, '}');
}

void sim_render_token(sim_job *j, buf *out, int i)
{
    if (j->ep == SIM_EP_V1_CHAT) {
        buf_puts(out, "data: ");
        v1_head(j, out, "chat.completion.chunk");
        buf_puts(out, i == 0 ? "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
                             : "\"choices\":[{\"index\":0,\"delta\":{\"content\":");
        text_json(j, out, i, i + 1);
        buf_puts(out, "},\"finish_reason\":null}]}\n\n");
        return;
    }
    if (j->ep == SIM_EP_V1_COMPLETIONS) {
        j->created = sim_created_sec(j->ctx); /* per chunk on this endpoint */
        buf_puts(out, "data: ");
        v1_head(j, out, "text_completion");
        buf_puts(out, "\"choices\":[{\"text\":");
        text_json(j, out, i, i + 1);
        buf_puts(out, ",\"index\":0,\"finish_reason\":null}]");
        v1_completion_tail(j, out, j->include_usage);
        buf_puts(out, "\n\n");
        return;
    }
    buf_putc(out, '{');
    model_field(j, out);
    buf_putc(out, ',');
    created_at(j, out);
    if (j->ep == SIM_EP_CHAT) {
        buf_puts(out, ",\"message\":{\"role\":\"assistant\",\"content\":");
        text_json(j, out, i, i + 1);
        buf_puts(out, "},\"done\":false}\n");
    } else {
        buf_puts(out, ",\"response\":");
        text_json(j, out, i, i + 1);
        buf_puts(out, ",\"done\":false}\n");
    }
}

void sim_render_malformed(sim_job *j, buf *out)
{
    /* A line cut off in the middle of a string: invalid JSON. */
    if (j->v1) {
        buf_puts(out, "data: ");
        v1_head(j, out, j->ep == SIM_EP_V1_CHAT ? "chat.completion.chunk" : "text_completion");
        buf_puts(out, "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tollgate-fault malformed\n\n");
        return;
    }
    buf_putc(out, '{');
    model_field(j, out);
    buf_putc(out, ',');
    created_at(j, out);
    buf_puts(out, j->ep == SIM_EP_CHAT ? ",\"message\":{\"role\":\"assistant\",\"content\":\"tollgate-fault malformed\n"
                                       : ",\"response\":\"tollgate-fault malformed\n");
}

#define ERROR_TEXT "an error was encountered while running the model: tollgate-fault error"

void sim_render_stream_error(sim_job *j, buf *out)
{
    if (!j->v1) {
        buf_puts(out, "{\"error\":\"" ERROR_TEXT "\"}\n");
        return;
    }
    /* The /v1 layer re-parses the error line as an empty response: a chunk
     * with model "" and an empty delta, then nothing (ollama.md §2.3). */
    buf_puts(out, "data: ");
    if (j->ep == SIM_EP_V1_CHAT) {
        buf_printf(out, "{\"id\":\"chatcmpl-%d\",\"object\":\"chat.completion.chunk\",\"created\":%lld,\"model\":\"\","
                        "\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},"
                        "\"finish_reason\":null}]}\n\n",
                   j->id_num, (long long)j->created);
    } else {
        buf_printf(out, "{\"id\":\"cmpl-%d\",\"object\":\"text_completion\",\"created\":%lld,\"choices\":[{\"text\":\"\","
                        "\"index\":0,\"finish_reason\":null}],\"model\":\"\",\"system_fingerprint\":\"fp_ollama\"}\n\n",
                   j->id_num, (long long)sim_created_sec(j->ctx));
    }
}

static int64_t at_least_1(int64_t v) { return v > 0 ? v : 1; }

/* A job's times for its metrics. With --fixed-clock they are the timing
 * flags' (a warm model: load_duration 1 ns; prompt eval = --ttft-ms; eval =
 * --token-ms per token after the first), as if the clock had run exactly as
 * configured, so the same request always gets the same bytes. */
typedef struct {
    int64_t t0, runner, slot, first, now;
} job_times;

static job_times times_of(const sim_job *j, int64_t now)
{
    if (!j->ctx->cfg.fixed_clock)
        return (job_times){j->t0, j->t_runner, j->t_slot, j->t_first, now};
    job_times t = {0, 1, 1, 0, 0};
    t.first = t.slot + at_least_1(j->ctx->cfg.ttft_ns);
    t.now = t.first + at_least_1(j->token_ns * (j->eval_count > 1 ? j->eval_count - 1 : 0));
    return t;
}

static void metrics(sim_job *j, buf *out, int64_t now)
{
    job_times t = times_of(j, now);
    buf_printf(out, ",\"total_duration\":%lld,\"load_duration\":%lld", (long long)at_least_1(t.now - t.t0),
               (long long)at_least_1(t.runner - t.t0));
    if (j->prompt_tokens)
        buf_printf(out, ",\"prompt_eval_count\":%d", j->prompt_tokens);
    buf_printf(out, ",\"prompt_eval_duration\":%lld", (long long)at_least_1(t.first - t.slot));
    if (j->eval_count)
        buf_printf(out, ",\"eval_count\":%d", j->eval_count);
    buf_printf(out, ",\"eval_duration\":%lld", (long long)at_least_1(t.now - t.first));
}

static void usage(sim_job *j, buf *out)
{
    buf_printf(out, "\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}", j->prompt_tokens,
               j->eval_count, j->prompt_tokens + j->eval_count);
}

void sim_render_final(sim_job *j, buf *out, int64_t now)
{
    const char *reason = j->length ? "length" : "stop";
    int from = j->stream ? j->visible : 0; /* non-stream: the whole text */
    if (j->ep == SIM_EP_V1_CHAT) {
        if (j->stream) {
            buf_puts(out, "data: ");
            v1_head(j, out, "chat.completion.chunk");
            buf_printf(out, "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"%s\"}]}\n\n", reason);
            if (j->include_usage) {
                buf_puts(out, "data: ");
                v1_head(j, out, "chat.completion.chunk");
                buf_puts(out, "\"choices\":[],");
                usage(j, out);
                buf_puts(out, "}\n\n");
            }
            buf_puts(out, "data: [DONE]\n\n");
            return;
        }
        v1_head(j, out, "chat.completion");
        buf_puts(out, "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
        text_json(j, out, 0, j->visible);
        buf_printf(out, "},\"finish_reason\":\"%s\"}],", reason);
        usage(j, out);
        buf_puts(out, "}\n");
        return;
    }
    if (j->ep == SIM_EP_V1_COMPLETIONS) {
        if (j->stream) {
            j->created = sim_created_sec(j->ctx);
            buf_puts(out, "data: ");
            v1_head(j, out, "text_completion");
            buf_printf(out, "\"choices\":[{\"text\":\"\",\"index\":0,\"finish_reason\":\"%s\"}]", reason);
            v1_completion_tail(j, out, j->include_usage);
            buf_puts(out, "\n\n");
            if (j->include_usage) {
                buf_puts(out, "data: ");
                v1_head(j, out, "text_completion");
                buf_puts(out, "\"choices\":[]");
                buf_putc(out, ',');
                model_field(j, out);
                buf_puts(out, ",\"system_fingerprint\":\"fp_ollama\",");
                usage(j, out);
                buf_puts(out, "}\n\n");
            }
            buf_puts(out, "data: [DONE]\n\n");
            return;
        }
        buf_printf(out, "{\"id\":\"cmpl-%d\",\"object\":\"text_completion\",\"created\":%lld,", j->id_num, (long long)j->created);
        model_field(j, out);
        buf_puts(out, ",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"text\":");
        text_json(j, out, 0, j->visible);
        buf_printf(out, ",\"index\":0,\"finish_reason\":\"%s\"}],", reason);
        usage(j, out);
        buf_puts(out, "}\n");
        return;
    }
    buf_putc(out, '{');
    model_field(j, out);
    buf_putc(out, ',');
    created_at(j, out);
    if (j->ep == SIM_EP_CHAT) {
        buf_puts(out, ",\"message\":{\"role\":\"assistant\",\"content\":");
        text_json(j, out, from, j->visible);
        buf_printf(out, "},\"done\":true,\"done_reason\":\"%s\"", reason);
    } else {
        buf_puts(out, ",\"response\":");
        text_json(j, out, from, j->visible);
        buf_printf(out, ",\"done\":true,\"done_reason\":\"%s\"", reason);
        if (!j->raw) {
            /* The rendered prompt's ids plus the generated ones. */
            buf_puts(out, ",\"context\":[");
            int n = j->prompt_tokens + j->visible;
            for (int i = 0; i < n; i++)
                buf_printf(out, i ? ",%d" : "%d", sim_token_id(j->seed, i));
            buf_putc(out, ']');
        }
    }
    metrics(j, out, now);
    buf_puts(out, j->stream ? "}\n" : "}");
}

void sim_render_load(sim_job *j, buf *out, const char *reason)
{
    buf_putc(out, '{');
    model_field(j, out);
    buf_putc(out, ',');
    created_at(j, out);
    if (j->ep == SIM_EP_CHAT)
        buf_printf(out, ",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"%s\"}", reason);
    else
        buf_printf(out, ",\"response\":\"\",\"done\":true,\"done_reason\":\"%s\"}", reason);
}

static void vector(sim_job *j, buf *out, uint64_t seed, bool normalize, int bits)
{
    const sim_model_info *mi = sim_sched_model(j->ctx->sched, j->model);
    int dim = mi->embed_dim;
    float stackv[1024], *v = dim <= 1024 ? stackv : malloc(sizeof *v * (size_t)dim);
    if (!v) {
        buf_puts(out, "[]");
        return;
    }
    sim_embed_vector(v, dim, seed, normalize);
    if (j->dimensions > 0 && j->dimensions < dim) {
        /* Truncated, then normalized again (ollama.md §1.8). */
        dim = j->dimensions;
        double norm = 0;
        for (int i = 0; i < dim; i++)
            norm += (double)v[i] * v[i];
        for (int i = 0; i < dim && norm > 0; i++)
            v[i] = (float)(v[i] / __builtin_sqrt(norm));
    }
    if (j->base64) {
        /* Little-endian float32 bytes (x86 and arm64 are little-endian). */
        buf_putc(out, '"');
        sim_base64(out, v, sizeof *v * (size_t)dim);
        buf_putc(out, '"');
    } else {
        buf_putc(out, '[');
        for (int i = 0; i < dim; i++) {
            if (i)
                buf_putc(out, ',');
            sim_json_float(out, v[i], bits);
        }
        buf_putc(out, ']');
    }
    if (v != stackv)
        free(v);
}

void sim_render_embed(sim_job *j, buf *out, int64_t now)
{
    if (j->ep == SIM_EP_EMBEDDINGS) {
        buf_puts(out, "{\"embedding\":");
        if (j->n_inputs)
            vector(j, out, j->input_seeds[0], false, 64);
        else
            buf_puts(out, "[]");
        buf_putc(out, '}');
        return;
    }
    if (j->ep == SIM_EP_V1_EMBEDDINGS) {
        buf_puts(out, "{\"object\":\"list\",\"data\":[");
        for (int i = 0; i < j->n_inputs; i++) {
            buf_puts(out, i ? ",{\"object\":\"embedding\",\"embedding\":" : "{\"object\":\"embedding\",\"embedding\":");
            vector(j, out, j->input_seeds[i], true, 32);
            buf_printf(out, ",\"index\":%d}", i);
        }
        buf_puts(out, "],");
        model_field(j, out);
        buf_printf(out, ",\"usage\":{\"prompt_tokens\":%d,\"total_tokens\":%d}}\n", j->prompt_tokens, j->prompt_tokens);
        return;
    }
    buf_putc(out, '{');
    model_field(j, out);
    buf_puts(out, ",\"embeddings\":[");
    for (int i = 0; i < j->n_inputs; i++) {
        if (i)
            buf_putc(out, ',');
        vector(j, out, j->input_seeds[i], true, 32);
    }
    buf_putc(out, ']');
    if (j->n_inputs) {
        job_times t = times_of(j, now);
        buf_printf(out, ",\"total_duration\":%lld,\"load_duration\":%lld", (long long)at_least_1(t.now - t.t0),
                   (long long)at_least_1(t.runner - t.t0));
        if (j->prompt_tokens)
            buf_printf(out, ",\"prompt_eval_count\":%d", j->prompt_tokens);
    }
    buf_putc(out, '}');
}

void sim_respond_json(conn *c, bool v1, int status, buf *body)
{
    conn_respond(c, status, v1 ? V1_JSON : NATIVE_JSON, NULL, body->data ? body->data : "", body->len);
}

void sim_respond_error(conn *c, bool v1, bool stream_path, int status, const char *msg)
{
    buf b;
    buf_init(&b);
    if (v1) {
        const char *type = status == 400 ? "invalid_request_error" : status == 404 ? "not_found_error" : "api_error";
        buf_puts(&b, "{\"error\":{\"message\":");
        sim_json_str(&b, msg, strlen(msg));
        buf_printf(&b, ",\"type\":\"%s\",\"param\":null,\"code\":null}}\n", type);
        conn_respond(c, status, V1_JSON, NULL, b.data, b.len);
    } else {
        buf_puts(&b, "{\"error\":");
        sim_json_str(&b, msg, strlen(msg));
        buf_putc(&b, '}');
        conn_respond(c, status, stream_path ? "application/json" : NATIVE_JSON, NULL, b.data, b.len);
    }
    buf_free(&b);
}
