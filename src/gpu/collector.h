/* Reads GPU values from NVML into a gpu_snapshot.
 *
 * gpu_collector_new loads NVML, enumerates the GPUs once (identity labels,
 * GPM support, XID event thread) and gpu_collector_collect reads only the
 * fields the counter set needs. Values NVML reports as NOT_SUPPORTED (or
 * cannot read without privileges) are omitted, as dcgm-exporter omits DCGM
 * blanks. Other failures are counted per GPU and error name (snapshot errs)
 * and reported once through the log callback; a GPU that returns
 * GPU_IS_LOST drops out of the snapshot until it answers again.
 *
 * Not thread-safe: one collect at a time (the exporter's cache serialises
 * them). */
#ifndef TOLLGATE_GPU_COLLECTOR_H
#define TOLLGATE_GPU_COLLECTOR_H

#include <stddef.h>

#include "gpu/counters.h"
#include "gpu/snapshot.h"

typedef struct gpu_collector gpu_collector;
typedef void (*gpu_log_fn)(void *ud, const char *msg);

typedef struct {
    const char *nvml_lib;        /* NULL: libnvidia-ml.so.1 */
    const gpu_counters *counters; /* borrowed; must outlive the collector */
    gpu_log_fn log;               /* optional; may be called from the XID thread */
    void *ud;
} gpu_collector_config;

/* NULL with the reason in err when NVML cannot be loaded or initialised,
 * e.g. "NVML not found (libnvidia-ml.so.1: cannot open shared object file:
 * No such file or directory)". */
gpu_collector *gpu_collector_new(const gpu_collector_config *cfg, char *err, size_t errlen);
size_t gpu_collector_ngpus(const gpu_collector *c);
const gpu_dev *gpu_collector_dev(const gpu_collector *c, size_t i);
/* Number of GPUs that answered GPU_IS_LOST at the last collect; safe to
 * call from any thread. */
size_t gpu_collector_nlost(const gpu_collector *c);
/* Fills s (its arrays are reused between calls). Returns 0, or -1 when out
 * of memory. */
int gpu_collector_collect(gpu_collector *c, gpu_snapshot *s);
/* Stops the XID thread, shuts NVML down and unloads it. */
void gpu_collector_free(gpu_collector *c);

/* Frees the arrays a collect allocated into s. */
void gpu_snapshot_free(gpu_snapshot *s);

#endif
