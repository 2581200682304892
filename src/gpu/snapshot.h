/* One collection's worth of GPU values: what the collector fills and the
 * exposition writer prints. Plain data so the writer can be tested without
 * NVML. Entity order is the exposition order (GPU 0, 1, ...; a MIG-enabled
 * GPU contributes one row per GPU instance instead of its own). */
#ifndef TOLLGATE_GPU_SNAPSHOT_H
#define TOLLGATE_GPU_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "gpu/counters.h"

typedef struct {
    bool ok; /* false: omitted, as dcgm-exporter omits blank values */
    long long i;
    double d;
} gpu_val;

typedef struct {
    unsigned index;    /* NVML index: labels gpu and device="nvidia<index>" */
    char uuid[96];
    char name[96];     /* modelName */
    char bus_id[32];   /* pci_bus_id, "00000000:3B:00.0" */
} gpu_dev;

typedef struct {
    size_t dev;        /* index into gpu_snapshot.devs */
    int gi_id;         /* GPU instance id, -1 for a whole GPU */
    char profile[32];  /* GPU_I_PROFILE, "1g.10gb" */
    gpu_val v[GF_COUNT];
} gpu_row;

typedef struct {
    size_t dev;
    unsigned pid;
    char comm[64];     /* /proc/<pid>/comm, "" when unreadable */
    unsigned long long bytes;
} gpu_proc;

typedef struct {
    size_t dev;
    const char *error; /* nvml_error_name(), static */
    unsigned long long count;
} gpu_err;

typedef struct {
    char driver_version[80]; /* "" when unknown */
    char nvml_version[80];
    gpu_dev *devs;
    size_t ndevs;
    gpu_row *rows;
    size_t nrows, cap_rows;
    gpu_proc *procs;
    size_t nprocs, cap_procs;
    gpu_err *errs;
    size_t nerrs, cap_errs;
} gpu_snapshot;

#endif
