#include "gpu/counters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/nvml.h"
#include "util/buf.h"

/* NVML_GPM_METRIC_* ids (nvml.h). */
enum {
    GPM_GRAPHICS_UTIL = 1,
    GPM_SM_UTIL = 2,
    GPM_SM_OCCUPANCY = 3,
    GPM_INTEGER_UTIL = 4,
    GPM_ANY_TENSOR_UTIL = 5,
    GPM_DFMA_TENSOR_UTIL = 6,
    GPM_HMMA_TENSOR_UTIL = 7,
    GPM_IMMA_TENSOR_UTIL = 9,
    GPM_DRAM_BW_UTIL = 10,
    GPM_FP64_UTIL = 11,
    GPM_FP32_UTIL = 12,
    GPM_FP16_UTIL = 13,
    GPM_PCIE_TX_PER_SEC = 20,
    GPM_PCIE_RX_PER_SEC = 21,
    GPM_NVLINK_TOTAL_RX_PER_SEC = 60,
    GPM_NVLINK_TOTAL_TX_PER_SEC = 61,
};

/* Indexed by gpu_field; DCGM ids and NVML sources from research/dcgm.md §2, §6.1. */
static const gpu_field_info catalog[GF_COUNT] = {
    [GF_DRIVER_VERSION] = {"DCGM_FI_DRIVER_VERSION", 1, GPU_KIND_STRING, GPU_SRC_DRIVER, 0},
    [GF_NVML_VERSION] = {"DCGM_FI_NVML_VERSION", 2, GPU_KIND_STRING, GPU_SRC_NVML, 0},
    [GF_SM_CLOCK] = {"DCGM_FI_DEV_SM_CLOCK", 100, GPU_KIND_INT, GPU_SRC_CLOCK, NVML_CLOCK_SM},
    [GF_MEM_CLOCK] = {"DCGM_FI_DEV_MEM_CLOCK", 101, GPU_KIND_INT, GPU_SRC_CLOCK, NVML_CLOCK_MEM},
    [GF_MEMORY_TEMP] = {"DCGM_FI_DEV_MEMORY_TEMP", 140, GPU_KIND_INT, GPU_SRC_FIELD, NVML_FI_DEV_MEMORY_TEMP},
    [GF_GPU_TEMP] = {"DCGM_FI_DEV_GPU_TEMP", 150, GPU_KIND_INT, GPU_SRC_TEMP, 0},
    [GF_POWER_USAGE] = {"DCGM_FI_DEV_POWER_USAGE", 155, GPU_KIND_DOUBLE, GPU_SRC_POWER, 0},
    [GF_TOTAL_ENERGY_CONSUMPTION] = {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 156, GPU_KIND_INT, GPU_SRC_FIELD,
                                     NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION},
    [GF_PCIE_TX_THROUGHPUT] = {"DCGM_FI_DEV_PCIE_TX_THROUGHPUT", 200, GPU_KIND_INT, GPU_SRC_NONE, 0},
    [GF_PCIE_RX_THROUGHPUT] = {"DCGM_FI_DEV_PCIE_RX_THROUGHPUT", 201, GPU_KIND_INT, GPU_SRC_NONE, 0},
    [GF_PCIE_REPLAY_COUNTER] = {"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", 202, GPU_KIND_INT, GPU_SRC_REPLAY, 0},
    [GF_GPU_UTIL] = {"DCGM_FI_DEV_GPU_UTIL", 203, GPU_KIND_INT, GPU_SRC_UTIL_GPU, 0},
    [GF_MEM_COPY_UTIL] = {"DCGM_FI_DEV_MEM_COPY_UTIL", 204, GPU_KIND_INT, GPU_SRC_UTIL_MEM, 0},
    [GF_ENC_UTIL] = {"DCGM_FI_DEV_ENC_UTIL", 206, GPU_KIND_INT, GPU_SRC_ENC, 0},
    [GF_DEC_UTIL] = {"DCGM_FI_DEV_DEC_UTIL", 207, GPU_KIND_INT, GPU_SRC_DEC, 0},
    [GF_XID_ERRORS] = {"DCGM_FI_DEV_XID_ERRORS", 230, GPU_KIND_INT, GPU_SRC_XID, 0},
    [GF_FB_FREE] = {"DCGM_FI_DEV_FB_FREE", 251, GPU_KIND_INT, GPU_SRC_FB_FREE, 0},
    [GF_FB_USED] = {"DCGM_FI_DEV_FB_USED", 252, GPU_KIND_INT, GPU_SRC_FB_USED, 0},
    [GF_FB_RESERVED] = {"DCGM_FI_DEV_FB_RESERVED", 253, GPU_KIND_INT, GPU_SRC_FB_RESERVED, 0},
    [GF_ECC_SBE_VOL_TOTAL] = {"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", 310, GPU_KIND_INT, GPU_SRC_FIELD,
                              NVML_FI_DEV_ECC_SBE_VOL_TOTAL},
    [GF_ECC_DBE_VOL_TOTAL] = {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", 311, GPU_KIND_INT, GPU_SRC_FIELD,
                              NVML_FI_DEV_ECC_DBE_VOL_TOTAL},
    [GF_ECC_SBE_AGG_TOTAL] = {"DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", 312, GPU_KIND_INT, GPU_SRC_FIELD,
                              NVML_FI_DEV_ECC_SBE_AGG_TOTAL},
    [GF_ECC_DBE_AGG_TOTAL] = {"DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", 313, GPU_KIND_INT, GPU_SRC_FIELD,
                              NVML_FI_DEV_ECC_DBE_AGG_TOTAL},
    [GF_RETIRED_SBE] = {"DCGM_FI_DEV_RETIRED_SBE", 390, GPU_KIND_INT, GPU_SRC_FIELD, NVML_FI_DEV_RETIRED_SBE},
    [GF_RETIRED_DBE] = {"DCGM_FI_DEV_RETIRED_DBE", 391, GPU_KIND_INT, GPU_SRC_FIELD, NVML_FI_DEV_RETIRED_DBE},
    [GF_RETIRED_PENDING] = {"DCGM_FI_DEV_RETIRED_PENDING", 392, GPU_KIND_INT, GPU_SRC_FIELD,
                            NVML_FI_DEV_RETIRED_PENDING},
    [GF_UNCORRECTABLE_REMAPPED_ROWS] = {"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", 393, GPU_KIND_INT, GPU_SRC_FIELD,
                                        NVML_FI_DEV_REMAPPED_UNC},
    [GF_CORRECTABLE_REMAPPED_ROWS] = {"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", 394, GPU_KIND_INT, GPU_SRC_FIELD,
                                      NVML_FI_DEV_REMAPPED_COR},
    [GF_ROW_REMAP_FAILURE] = {"DCGM_FI_DEV_ROW_REMAP_FAILURE", 395, GPU_KIND_INT, GPU_SRC_FIELD,
                              NVML_FI_DEV_REMAPPED_FAILURE},
    [GF_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL] = {"DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", 409, GPU_KIND_INT,
                                              GPU_SRC_FIELD, NVML_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL},
    [GF_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL] = {"DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", 419, GPU_KIND_INT,
                                              GPU_SRC_FIELD, NVML_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL},
    [GF_NVLINK_REPLAY_ERROR_COUNT_TOTAL] = {"DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", 429, GPU_KIND_INT,
                                            GPU_SRC_FIELD, NVML_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL},
    [GF_NVLINK_RECOVERY_ERROR_COUNT_TOTAL] = {"DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", 439, GPU_KIND_INT,
                                              GPU_SRC_FIELD, NVML_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL},
    [GF_NVLINK_BANDWIDTH_TOTAL] = {"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", 449, GPU_KIND_INT, GPU_SRC_NVLINK_BW, 0},
    [GF_VGPU_LICENSE_STATUS] = {"DCGM_FI_DEV_VGPU_LICENSE_STATUS", 526, GPU_KIND_INT, GPU_SRC_VGPU, 0},
    [GF_PROF_GR_ENGINE_ACTIVE] = {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", 1001, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO,
                                  GPM_GRAPHICS_UTIL},
    [GF_PROF_SM_ACTIVE] = {"DCGM_FI_PROF_SM_ACTIVE", 1002, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO, GPM_SM_UTIL},
    [GF_PROF_SM_OCCUPANCY] = {"DCGM_FI_PROF_SM_OCCUPANCY", 1003, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO,
                              GPM_SM_OCCUPANCY},
    [GF_PROF_PIPE_TENSOR_ACTIVE] = {"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", 1004, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO,
                                    GPM_ANY_TENSOR_UTIL},
    [GF_PROF_DRAM_ACTIVE] = {"DCGM_FI_PROF_DRAM_ACTIVE", 1005, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO,
                             GPM_DRAM_BW_UTIL},
    [GF_PROF_PIPE_FP64_ACTIVE] = {"DCGM_FI_PROF_PIPE_FP64_ACTIVE", 1006, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO,
                                  GPM_FP64_UTIL},
    [GF_PROF_PIPE_FP32_ACTIVE] = {"DCGM_FI_PROF_PIPE_FP32_ACTIVE", 1007, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO,
                                  GPM_FP32_UTIL},
    [GF_PROF_PIPE_FP16_ACTIVE] = {"DCGM_FI_PROF_PIPE_FP16_ACTIVE", 1008, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO,
                                  GPM_FP16_UTIL},
    [GF_PROF_PCIE_TX_BYTES] = {"DCGM_FI_PROF_PCIE_TX_BYTES", 1009, GPU_KIND_INT, GPU_SRC_GPM_MIB,
                               GPM_PCIE_TX_PER_SEC},
    [GF_PROF_PCIE_RX_BYTES] = {"DCGM_FI_PROF_PCIE_RX_BYTES", 1010, GPU_KIND_INT, GPU_SRC_GPM_MIB,
                               GPM_PCIE_RX_PER_SEC},
    [GF_PROF_NVLINK_TX_BYTES] = {"DCGM_FI_PROF_NVLINK_TX_BYTES", 1011, GPU_KIND_INT, GPU_SRC_GPM_MIB,
                                 GPM_NVLINK_TOTAL_TX_PER_SEC},
    [GF_PROF_NVLINK_RX_BYTES] = {"DCGM_FI_PROF_NVLINK_RX_BYTES", 1012, GPU_KIND_INT, GPU_SRC_GPM_MIB,
                                 GPM_NVLINK_TOTAL_RX_PER_SEC},
    [GF_PROF_PIPE_TENSOR_IMMA_ACTIVE] = {"DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE", 1013, GPU_KIND_DOUBLE,
                                         GPU_SRC_GPM_RATIO, GPM_IMMA_TENSOR_UTIL},
    [GF_PROF_PIPE_TENSOR_HMMA_ACTIVE] = {"DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE", 1014, GPU_KIND_DOUBLE,
                                         GPU_SRC_GPM_RATIO, GPM_HMMA_TENSOR_UTIL},
    [GF_PROF_PIPE_TENSOR_DFMA_ACTIVE] = {"DCGM_FI_PROF_PIPE_TENSOR_DFMA_ACTIVE", 1015, GPU_KIND_DOUBLE,
                                         GPU_SRC_GPM_RATIO, GPM_DFMA_TENSOR_UTIL},
    [GF_PROF_PIPE_INT_ACTIVE] = {"DCGM_FI_PROF_PIPE_INT_ACTIVE", 1016, GPU_KIND_DOUBLE, GPU_SRC_GPM_RATIO,
                                 GPM_INTEGER_UTIL},
};

/* dcgm-exporter 4.x etc/default-counters.csv, same fields, types and help
 * texts (PCIe throughput lines dropped there, FB_RESERVED, the driver label
 * and the five profiling fields added). */
const char gpu_counters_default_csv[] =
    "# DCGM FIELD, Prometheus metric type, help message\n"
    "DCGM_FI_DEV_SM_CLOCK,  gauge, SM clock frequency (in MHz).\n"
    "DCGM_FI_DEV_MEM_CLOCK, gauge, Memory clock frequency (in MHz).\n"
    "DCGM_FI_DEV_MEMORY_TEMP, gauge, Memory temperature (in C).\n"
    "DCGM_FI_DEV_GPU_TEMP,    gauge, GPU temperature (in C).\n"
    "DCGM_FI_DEV_POWER_USAGE,              gauge, Power draw (in W).\n"
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, counter, Total energy consumption since boot (in mJ).\n"
    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER, counter, Total number of PCIe retries.\n"
    "DCGM_FI_DEV_GPU_UTIL,      gauge, GPU utilization (in %).\n"
    "DCGM_FI_DEV_MEM_COPY_UTIL, gauge, Memory utilization (in %).\n"
    "DCGM_FI_DEV_ENC_UTIL,      gauge, Encoder utilization (in %).\n"
    "DCGM_FI_DEV_DEC_UTIL ,     gauge, Decoder utilization (in %).\n"
    "DCGM_FI_DEV_XID_ERRORS, gauge, Value of the last XID error encountered.\n"
    "DCGM_FI_DEV_FB_FREE, gauge, Framebuffer memory free (in MiB).\n"
    "DCGM_FI_DEV_FB_USED, gauge, Framebuffer memory used (in MiB).\n"
    "DCGM_FI_DEV_FB_RESERVED, gauge, Framebuffer memory reserved (in MiB).\n"
    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL, counter, Total number of NVLink bandwidth counters for all lanes.\n"
    "DCGM_FI_DEV_VGPU_LICENSE_STATUS, gauge, vGPU License status\n"
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS, counter, Number of remapped rows for uncorrectable errors\n"
    "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS,   counter, Number of remapped rows for correctable errors\n"
    "DCGM_FI_DEV_ROW_REMAP_FAILURE,           gauge,   Whether remapping of rows has failed\n"
    "DCGM_FI_DRIVER_VERSION, label, Driver Version\n"
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE,   gauge, Ratio of time the graphics engine is active.\n"
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE, gauge, Ratio of cycles the tensor (HMMA) pipe is active.\n"
    "DCGM_FI_PROF_DRAM_ACTIVE,        gauge, Ratio of cycles the device memory interface is active sending or "
    "receiving data.\n"
    "DCGM_FI_PROF_PCIE_TX_BYTES,      gauge, The rate of data transmitted over the PCIe bus - including both "
    "protocol headers and data payloads - in bytes per second.\n"
    "DCGM_FI_PROF_PCIE_RX_BYTES,      gauge, The rate of data received over the PCIe bus - including both protocol "
    "headers and data payloads - in bytes per second.\n";

const gpu_field_info *gpu_field_get(gpu_field f)
{
    return (unsigned)f < GF_COUNT ? &catalog[f] : NULL;
}

int gpu_field_lookup(const char *name)
{
    for (int i = 0; i < GF_COUNT; i++)
        if (!strcmp(catalog[i].name, name))
            return i;
    return -1;
}

/* ---- CSV reader with encoding/csv semantics (no lazy quotes) ---- */

typedef struct {
    const char *p, *end;
    unsigned line; /* current line, 1-based */
} csv_reader;

/* Reads one field into out. Returns 1 when a ',' follows, 0 at end of record
 * (newline or EOF), -1 on a quoting error. */
static int csv_field(csv_reader *r, buf *out, char *err, size_t errlen)
{
    if (r->p < r->end && *r->p == '"') {
        unsigned start = r->line;
        r->p++;
        for (;;) {
            if (r->p >= r->end) {
                snprintf(err, errlen, "line %u: quoted field starting here is never closed", start);
                return -1;
            }
            char c = *r->p++;
            if (c == '"') {
                if (r->p < r->end && *r->p == '"') {
                    buf_putc(out, '"');
                    r->p++;
                    continue;
                }
                break;
            }
            if (c == '\r' && r->p < r->end && *r->p == '\n')
                continue; /* \r\n inside quotes reads as \n */
            if (c == '\n')
                r->line++;
            buf_putc(out, c);
        }
        if (r->p >= r->end)
            return 0;
        if (*r->p == ',') {
            r->p++;
            return 1;
        }
        if (*r->p == '\n' || (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')) {
            r->p += *r->p == '\r' ? 2 : 1;
            r->line++;
            return 0;
        }
        snprintf(err, errlen, "line %u: extraneous or missing \" in quoted field", r->line);
        return -1;
    }
    while (r->p < r->end) {
        char c = *r->p;
        if (c == ',') {
            r->p++;
            return 1;
        }
        if (c == '\n' || (c == '\r' && r->p + 1 < r->end && r->p[1] == '\n')) {
            r->p += c == '\r' ? 2 : 1;
            r->line++;
            return 0;
        }
        if (c == '"') {
            snprintf(err, errlen, "line %u: bare \" in a field that is not quoted (quote the whole help text)",
                     r->line);
            return -1;
        }
        if (c == '\0') {
            snprintf(err, errlen, "line %u: NUL byte", r->line);
            return -1;
        }
        buf_putc(out, c);
        r->p++;
    }
    return 0;
}

/* Trims spaces only (not tabs), as strings.Trim(col, " ") does. */
static char *trim_dup(const buf *b)
{
    const char *s = b->len ? b->data : "";
    size_t n = b->len;
    while (n && *s == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    return strndup(s, n);
}

static bool line_is_blank(const char *p, const char *end)
{
    for (; p < end && *p != '\n'; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r')
            return false;
    return true;
}

static int cmp_metric(const void *a, const void *b)
{
    const gpu_counter *x = a, *y = b;
    unsigned ix = catalog[x->field].id, iy = catalog[y->field].id;
    if (ix != iy)
        return ix < iy ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_label(const void *a, const void *b)
{
    const gpu_counter *x = a, *y = b;
    int c = strcmp(catalog[x->field].name, catalog[y->field].name);
    return c ? c : (x->line < y->line ? -1 : x->line > y->line);
}

static bool valid_type(const char *t)
{
    return !strcmp(t, "gauge") || !strcmp(t, "counter") || !strcmp(t, "histogram") || !strcmp(t, "summary") ||
           !strcmp(t, "label");
}

static int push(gpu_counter **arr, size_t *n, gpu_counter c)
{
    gpu_counter *na = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!na)
        return -1;
    *arr = na;
    na[(*n)++] = c;
    return 0;
}

/* Drops later rows for a field already present: exposing one family twice
 * would be invalid exposition. */
static void dedupe(gpu_counter *arr, size_t *n)
{
    size_t w = 0;
    for (size_t i = 0; i < *n; i++) {
        if (w && arr[w - 1].field == arr[i].field) {
            free(arr[i].type);
            free(arr[i].help);
            continue;
        }
        arr[w++] = arr[i];
    }
    *n = w;
}

int gpu_counters_parse(const char *text, size_t len, gpu_counters *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    csv_reader r = {text, text + len, 1};
    buf cols[4], warn;
    for (int i = 0; i < 4; i++)
        buf_init(&cols[i]);
    buf_init(&warn);
    while (r.p < r.end) {
        const char *eol = memchr(r.p, '\n', (size_t)(r.end - r.p));
        if (*r.p == '#' || line_is_blank(r.p, r.end)) {
            r.p = eol ? eol + 1 : r.end;
            r.line++;
            continue;
        }
        unsigned line = r.line;
        int nf = 0, more;
        for (int i = 0; i < 4; i++)
            buf_reset(&cols[i]);
        do {
            more = csv_field(&r, &cols[nf < 3 ? nf : 3], err, errlen);
            if (more < 0)
                goto fail;
            nf++;
        } while (more == 1);
        if (nf != 3) {
            snprintf(err, errlen, "line %u: expected 3 fields (DCGM field, Prometheus type, help), found %d", line,
                     nf);
            goto fail;
        }
        char *name = trim_dup(&cols[0]), *type = trim_dup(&cols[1]), *help = trim_dup(&cols[2]);
        if (!name || !type || !help) {
            free(name), free(type), free(help);
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        int f = gpu_field_lookup(name);
        const char *bad = NULL;
        if (!valid_type(type))
            bad = "type";
        else if (f < 0 && strncmp(name, "DCGM_FI_", 8) && strncmp(name, "DCGM_EXP_", 9))
            bad = "field";
        else if (f >= 0 && catalog[f].kind == GPU_KIND_STRING && strcmp(type, "label"))
            bad = "string";
        if (bad) {
            if (!strcmp(bad, "type"))
                snprintf(err, errlen,
                         "line %u: unknown Prometheus metric type '%s' for %s (expected gauge, counter, histogram, "
                         "summary or label)",
                         line, type, name);
            else if (!strcmp(bad, "field"))
                snprintf(err, errlen, "line %u: unknown DCGM field '%s'", line, name);
            else
                snprintf(err, errlen, "line %u: %s is a string field; its type must be 'label'", line, name);
            free(name), free(type), free(help);
            goto fail;
        }
        if (f < 0) {
            buf_printf(&warn, "line %u: %s is not supported by tollgate gpu; skipped\n", line, name);
            free(name), free(type), free(help);
            continue;
        }
        free(name);
        gpu_counter c = {(gpu_field)f, type, help, line};
        bool is_label = !strcmp(type, "label");
        if (push(is_label ? &out->labels : &out->metrics, is_label ? &out->nlabels : &out->nmetrics, c) < 0) {
            free(type), free(help);
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        out->need[f] = true;
    }
    if (!out->nmetrics && !out->nlabels) {
        snprintf(err, errlen, "no counters: every line is a comment, blank or skipped");
        goto fail;
    }
    if (out->nmetrics)
        qsort(out->metrics, out->nmetrics, sizeof *out->metrics, cmp_metric);
    if (out->nlabels)
        qsort(out->labels, out->nlabels, sizeof *out->labels, cmp_label);
    dedupe(out->metrics, &out->nmetrics);
    dedupe(out->labels, &out->nlabels);
    if (warn.len)
        out->warnings = strdup(buf_cstr(&warn));
    for (int i = 0; i < 4; i++)
        buf_free(&cols[i]);
    buf_free(&warn);
    return 0;
fail:
    for (int i = 0; i < 4; i++)
        buf_free(&cols[i]);
    buf_free(&warn);
    gpu_counters_free(out);
    return -1;
}

int gpu_counters_load(const char *path, gpu_counters *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    buf b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf_append(&b, chunk, n);
        if (b.len > (1u << 20)) {
            fclose(f);
            buf_free(&b);
            snprintf(err, errlen, "%s: larger than 1 MiB, not a counters file", path);
            return -1;
        }
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr || b.oom) {
        buf_free(&b);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    char e[256];
    int rc = gpu_counters_parse(b.len ? b.data : "", b.len, out, e, sizeof e);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, e);
    buf_free(&b);
    return rc;
}

void gpu_counters_free(gpu_counters *c)
{
    for (size_t i = 0; i < c->nmetrics; i++)
        free(c->metrics[i].type), free(c->metrics[i].help);
    for (size_t i = 0; i < c->nlabels; i++)
        free(c->labels[i].type), free(c->labels[i].help);
    free(c->metrics);
    free(c->labels);
    free(c->warnings);
    memset(c, 0, sizeof *c);
}
