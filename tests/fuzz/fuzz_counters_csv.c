/* libFuzzer target: the counters CSV parser must accept or reject any
 * input with an error message, never crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gpu/counters.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gpu_counters c;
    char err[256];
    if (gpu_counters_parse((const char *)data, size, &c, err, sizeof err) == 0) {
        /* Invariants the exposition writer relies on. */
        for (size_t i = 0; i < c.nmetrics; i++)
            if (!c.metrics[i].type || !c.metrics[i].help || !gpu_field_get(c.metrics[i].field))
                __builtin_trap();
        for (size_t i = 1; i < c.nmetrics; i++)
            if (gpu_field_get(c.metrics[i - 1].field)->id >= gpu_field_get(c.metrics[i].field)->id)
                __builtin_trap();
        gpu_counters_free(&c);
    } else if (!err[0] || !memchr(err, '\0', sizeof err)) {
        __builtin_trap();
    }
    return 0;
}
