/* dcgm-exporter's text exposition from a snapshot: per selected field, in
 * ascending DCGM id, "# HELP", "# TYPE" and one line per row that has a
 * value; families with no value anywhere are left out. Labels, in order:
 * gpu, UUID, pci_bus_id, device, modelName, [GPU_I_PROFILE, GPU_I_ID],
 * Hostname (unless hostname is NULL), label-type fields sorted by name,
 * then err_code/err_msg on DCGM_FI_DEV_XID_ERRORS. Integers print as %lld,
 * doubles as %f (six decimals), as Go's fmt does in dcgm-exporter.
 *
 * After the DCGM families come Tollgate's per-GPU extras:
 * tollgate_gpu_process_memory_used_bytes and tollgate_gpu_nvml_errors_total. */
#ifndef TOLLGATE_GPU_EXPO_H
#define TOLLGATE_GPU_EXPO_H

#include "gpu/counters.h"
#include "gpu/snapshot.h"
#include "util/buf.h"

void gpu_expo_write(buf *out, const gpu_counters *cs, const gpu_snapshot *s, const char *hostname);

#endif
