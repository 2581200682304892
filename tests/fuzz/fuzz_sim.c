/* libFuzzer: the simulator's request parsing (native and /v1 bodies into a
 * job, with Ollama's validation), the rendering of what a parsed job would
 * answer, fault markers, durations and Go JSON escaping. The first byte
 * picks the endpoint; the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sim_ctx *ctx_get(void)
{
    static sim_ctx ctx;
    if (!ctx.sched) {
        static const char *const names[] = {"llama3.2:3b", "gemma3:1b", "nomic-embed-text"};
        sim_sched_cfg sc = {1, 4, 300000000000LL, 0};
        ctx.cfg.max_tokens_default = 24;
        ctx.sched = sim_sched_new(&sc, names, 3);
        ctx.stats = sim_stats_new(3);
    }
    return &ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum sim_endpoint eps[] = {SIM_EP_CHAT,    SIM_EP_GENERATE,       SIM_EP_EMBED,         SIM_EP_EMBEDDINGS,
                                            SIM_EP_V1_CHAT, SIM_EP_V1_COMPLETIONS, SIM_EP_V1_EMBEDDINGS};
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    sim_ctx *ctx = ctx_get();
    sim_job *j = sim_job_new(ctx, NULL, eps[data[0] % 7]);
    sim_err err;
    buf out;
    buf_init(&out);
    if (sim_parse_request(j, body, len, &err) == 0 && !j->load_only) {
        if (j->visible > 2000)
            j->visible = 2000; /* keep each run fast */
        if (j->ep == SIM_EP_EMBED || j->ep == SIM_EP_EMBEDDINGS || j->ep == SIM_EP_V1_EMBEDDINGS) {
            sim_render_embed(j, &out, 1);
        } else {
            sim_render_token(j, &out, 0);
            sim_render_malformed(j, &out);
            sim_render_stream_error(j, &out);
            sim_render_final(j, &out, 1);
        }
    }
    sim_job_free(j);
    (void)sim_parse_show(ctx, body, len, &err);
    sim_fault f;
    (void)sim_fault_find(body, len, &f);
    (void)sim_count_tokens(body, len);
    buf_reset(&out);
    sim_json_str(&out, body, len);
    char *s = malloc(len + 1);
    memcpy(s, body, len);
    s[len] = '\0';
    int64_t ns;
    (void)sim_parse_duration(s, data[0] & 1, &ns);
    free(s);
    buf_free(&out);
    return 0;
}
