/* Field catalog and counters CSV (`tollgate gpu -f FILE`).
 *
 * The catalog lists every DCGM field `tollgate gpu` can fill from NVML, with
 * its DCGM id (which orders the exposition, as dcgm-exporter 4.x does) and
 * where the value comes from. The CSV format is dcgm-exporter's:
 *
 *     # comment (the '#' must be the first character of the line)
 *     DCGM_FI_DEV_GPU_UTIL, gauge, GPU utilization (in %).
 *
 * three columns (field, Prometheus type, help), each trimmed of spaces,
 * RFC 4180 quoting as Go's encoding/csv reads it ("" inside quotes, commas
 * and newlines allowed in a quoted help). Type `label` turns a field into a
 * label on every sample (DCGM_FI_DRIVER_VERSION). */
#ifndef TOLLGATE_GPU_COUNTERS_H
#define TOLLGATE_GPU_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    GF_DRIVER_VERSION,
    GF_NVML_VERSION,
    GF_SM_CLOCK,
    GF_MEM_CLOCK,
    GF_MEMORY_TEMP,
    GF_GPU_TEMP,
    GF_POWER_USAGE,
    GF_TOTAL_ENERGY_CONSUMPTION,
    GF_PCIE_TX_THROUGHPUT,
    GF_PCIE_RX_THROUGHPUT,
    GF_PCIE_REPLAY_COUNTER,
    GF_GPU_UTIL,
    GF_MEM_COPY_UTIL,
    GF_ENC_UTIL,
    GF_DEC_UTIL,
    GF_XID_ERRORS,
    GF_FB_FREE,
    GF_FB_USED,
    GF_FB_RESERVED,
    GF_ECC_SBE_VOL_TOTAL,
    GF_ECC_DBE_VOL_TOTAL,
    GF_ECC_SBE_AGG_TOTAL,
    GF_ECC_DBE_AGG_TOTAL,
    GF_RETIRED_SBE,
    GF_RETIRED_DBE,
    GF_RETIRED_PENDING,
    GF_UNCORRECTABLE_REMAPPED_ROWS,
    GF_CORRECTABLE_REMAPPED_ROWS,
    GF_ROW_REMAP_FAILURE,
    GF_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL,
    GF_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL,
    GF_NVLINK_REPLAY_ERROR_COUNT_TOTAL,
    GF_NVLINK_RECOVERY_ERROR_COUNT_TOTAL,
    GF_NVLINK_BANDWIDTH_TOTAL,
    GF_VGPU_LICENSE_STATUS,
    GF_PROF_GR_ENGINE_ACTIVE,
    GF_PROF_SM_ACTIVE,
    GF_PROF_SM_OCCUPANCY,
    GF_PROF_PIPE_TENSOR_ACTIVE,
    GF_PROF_DRAM_ACTIVE,
    GF_PROF_PIPE_FP64_ACTIVE,
    GF_PROF_PIPE_FP32_ACTIVE,
    GF_PROF_PIPE_FP16_ACTIVE,
    GF_PROF_PCIE_TX_BYTES,
    GF_PROF_PCIE_RX_BYTES,
    GF_PROF_NVLINK_TX_BYTES,
    GF_PROF_NVLINK_RX_BYTES,
    GF_PROF_PIPE_TENSOR_IMMA_ACTIVE,
    GF_PROF_PIPE_TENSOR_HMMA_ACTIVE,
    GF_PROF_PIPE_TENSOR_DFMA_ACTIVE,
    GF_PROF_PIPE_INT_ACTIVE,
    GF_COUNT
} gpu_field;

typedef enum {
    GPU_SRC_NONE,       /* known to DCGM but never reported (PCIe throughput) */
    GPU_SRC_DRIVER,     /* string: nvmlSystemGetDriverVersion */
    GPU_SRC_NVML,       /* string: nvmlSystemGetNVMLVersion */
    GPU_SRC_CLOCK,      /* nvmlDeviceGetClockInfo(arg) */
    GPU_SRC_TEMP,       /* nvmlDeviceGetTemperature */
    GPU_SRC_POWER,      /* nvmlDeviceGetPowerUsage, mW -> W */
    GPU_SRC_FIELD,      /* nvmlDeviceGetFieldValues(arg) */
    GPU_SRC_REPLAY,     /* nvmlDeviceGetPcieReplayCounter */
    GPU_SRC_UTIL_GPU,   /* nvmlDeviceGetUtilizationRates .gpu */
    GPU_SRC_UTIL_MEM,   /* .memory */
    GPU_SRC_ENC,        /* nvmlDeviceGetEncoderUtilization */
    GPU_SRC_DEC,        /* nvmlDeviceGetDecoderUtilization */
    GPU_SRC_XID,        /* event thread */
    GPU_SRC_FB_FREE,    /* nvmlDeviceGetMemoryInfo_v2, bytes -> MiB */
    GPU_SRC_FB_USED,
    GPU_SRC_FB_RESERVED,
    GPU_SRC_NVLINK_BW,  /* FieldValues DATA_TX + DATA_RX rate */
    GPU_SRC_VGPU,       /* nvmlDeviceGetGridLicensableFeatures_v4 */
    GPU_SRC_GPM_RATIO,  /* GPM metric arg, % -> ratio */
    GPU_SRC_GPM_MIB,    /* GPM metric arg, MiB/s -> bytes/s */
} gpu_source;

typedef enum { GPU_KIND_INT, GPU_KIND_DOUBLE, GPU_KIND_STRING } gpu_kind;

typedef struct {
    const char *name; /* DCGM_FI_... */
    unsigned id;      /* DCGM field id */
    gpu_kind kind;
    gpu_source src;
    unsigned arg;     /* NVML_FI_* / clock type / GPM metric id */
} gpu_field_info;

const gpu_field_info *gpu_field_get(gpu_field f);
/* Catalog index by exact name, or -1. */
int gpu_field_lookup(const char *name);

typedef struct {
    gpu_field field;
    char *type; /* "gauge", "counter", "histogram", "summary" or "label" */
    char *help;
    unsigned line; /* 1-based line in the file */
} gpu_counter;

typedef struct {
    gpu_counter *metrics; /* ascending DCGM id, duplicates removed */
    size_t nmetrics;
    gpu_counter *labels;  /* type label, sorted by name */
    size_t nlabels;
    bool need[GF_COUNT];  /* fields the collector must read */
    char *warnings;       /* "line N: ...\n" lines for skipped rows, or NULL */
} gpu_counters;

/* dcgm-exporter 4.x's default counter set (default-counters.csv) as CSV. */
extern const char gpu_counters_default_csv[];

/* Parses CSV text into out (which the caller then frees with
 * gpu_counters_free). Returns 0, or -1 with "line N: what is wrong" in err.
 * Fields that look like DCGM fields but are not in the catalog are skipped
 * with a warning in out->warnings rather than failing, so a dcgm-exporter
 * CSV with extra fields still works. */
int gpu_counters_parse(const char *text, size_t len, gpu_counters *out, char *err, size_t errlen);
/* Reads and parses a file; err is prefixed with the path. */
int gpu_counters_load(const char *path, gpu_counters *out, char *err, size_t errlen);
void gpu_counters_free(gpu_counters *c);

#endif
