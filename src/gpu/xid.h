/* XID errors through NVML's event API, in a background thread: one event set
 * for all GPUs, nvmlEventTypeXidCriticalError, waits of at most
 * GPU_XID_WAIT_MS so a stop request is seen promptly. The last XID per GPU
 * is what DCGM_FI_DEV_XID_ERRORS reports (0 before any). */
#ifndef TOLLGATE_GPU_XID_H
#define TOLLGATE_GPU_XID_H

#include <stdbool.h>
#include <stddef.h>

#include "gpu/nvml.h"

#define GPU_XID_WAIT_MS 500

/* dcgm-exporter's err_msg text for an XID code ("GPU has fallen off the
 * bus" for 79); "Unknown Error" outside 0..172. */
const char *gpu_xid_message(long long code);

typedef struct gpu_xid gpu_xid;
/* Called from the XID thread with a one-line message for the log. */
typedef void (*gpu_xid_log_fn)(void *ud, const char *msg);

/* Registers every device and starts the thread. devs[i] is the handle of
 * the GPU at NVML index i. Returns NULL when the event API is missing or no
 * device accepted the registration (XID then stays unreported). */
gpu_xid *gpu_xid_start(const nvml_api *api, const nvmlDevice_t *devs, size_t ndevs, gpu_xid_log_fn log,
                       void *ud);
/* Whether device i is registered, and its last XID (0 before any). */
bool gpu_xid_supported(const gpu_xid *x, size_t i);
long long gpu_xid_last(gpu_xid *x, size_t i);
/* Stops and joins the thread; frees the event set. NULL is fine. */
void gpu_xid_stop(gpu_xid *x);

#endif
