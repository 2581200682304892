/* libFuzzer: litellm_config.yaml loader over arbitrary bytes. Any result is
 * fine; a crash, leak, or sanitizer report is not. When a config loads, every
 * field is read so ASan sees use of anything dangling. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_warn(void *ud, const char *msg)
{
    size_t *n = ud;
    *n += strlen(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        /* Deterministic environment for os.environ/ lookups. */
        setenv("TG_FUZZ_KEY", "k", 1);
        unsetenv("LITELLM_MASTER_KEY");
        once = 1;
    }
    char err[256];
    size_t total = 0;
    config *c = config_load_string((const char *)data, size, "fuzz.yaml", on_warn, &total, err, sizeof err);
    if (!c) {
        if (!err[0])
            abort(); /* every failure must explain itself */
        return 0;
    }
    for (size_t i = 0; i < c->ndeployments; i++) {
        const config_deployment *d = &c->deployments[i];
        total += strlen(d->model_name) + strlen(d->model) + strlen(d->provider_name) + strlen(d->upstream_model) +
                 strlen(d->api_base) + strlen(d->model_id) + (d->api_key ? strlen(d->api_key) : 0);
        if (!d->upstream_model[0] || d->api_base[strlen(d->api_base) - 1] == '/')
            abort();
    }
    for (size_t i = 0; i < c->ncallbacks; i++)
        total += strlen(c->callbacks[i]);
    for (size_t i = 0; i < c->nfallbacks; i++)
        for (size_t j = 0; j < c->fallbacks[i].nto; j++)
            total += strlen(c->fallbacks[i].to[j]) + strlen(c->fallbacks[i].from);
    for (size_t i = 1; i < c->nlatency_buckets; i++)
        if (!(c->latency_buckets[i] > c->latency_buckets[i - 1]))
            abort();
    for (size_t i = 0; i < c->nnotes; i++)
        total += strlen(c->notes[i]);
    (void)total;
    config_free(c);
    return 0;
}
