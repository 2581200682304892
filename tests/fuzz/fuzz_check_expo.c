/* libFuzzer: the exposition lookup and the Prometheus API readers used by
 * 'tollgate check' (they read whatever a service at the given URL sends). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/expo.h"
#include "check/promapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    double v;
    (void)expo_sum(s, size, "litellm_input_tokens_metric_total", &v);
    (void)expo_sum(s, size, "x", &v);
    prom_target t;
    char err[128];
    (void)promapi_target(s, size, "litellm", 1e9, &t, err, sizeof err);
    size_t n;
    (void)promapi_query(s, size, &n, &v, err, sizeof err);
    /* The string readers need NUL-terminated input. */
    char *z = malloc(size + 1);
    if (!z)
        return 0;
    memcpy(z, data, size);
    z[size] = '\0';
    (void)promapi_duration(z);
    (void)promapi_time(z);
    free(z);
    return 0;
}
