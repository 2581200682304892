#include "gpu/collector.h"

#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu/nvml.h"
#include "gpu/xid.h"

#define MAX_ERR_KINDS 8
#define MAX_MIG 16
#define GPM_MIN_INTERVAL_MS 100 /* nvml.h: GPM samples must be >= 100 ms apart */

typedef struct {
    const char *name;
    unsigned long long count;
} err_count;

typedef struct {
    nvmlDevice_t h;
    bool lost;       /* answered GPU_IS_LOST on the last collect */
    bool lost_now;   /* ... on this collect */
    /* NVLink bandwidth is a rate between two reads of the byte counters. */
    bool nvl_prev;
    unsigned long long nvl_sum;
    long long nvl_ts;
    /* GPM: the newest sample taken (gs[gcur]) and the values computed from
     * the last pair, reused when collects come faster than 100 ms. */
    bool gpm;
    nvmlGpmSample_t gs[2];
    int gcur;
    bool gprev;
    double gprev_ms;
    gpu_val gpm_vals[GF_COUNT];
    err_count errs[MAX_ERR_KINDS];
    size_t nerrs;
} devstate;

struct gpu_collector {
    nvml_api *api;
    const gpu_counters *cs;
    gpu_log_fn log;
    void *ud;
    size_t n;
    devstate *d;
    gpu_dev *ids;
    nvmlDevice_t *handles;
    char driver[80], nvml_version[80];
    gpu_xid *xid;
    nvmlGpmMetricsGet_t *gpm_req; /* 13 KB: allocated once, not on the stack */
    nvmlProcessInfo_t *procbuf;
    unsigned proccap;
    bool need_gpm;
    atomic_size_t nlost; /* read by /health while a collection runs */
};

#define CALL(c, fn, ...) ((c)->api->fn ? (c)->api->fn(__VA_ARGS__) : NVML_ERROR_FUNCTION_NOT_FOUND)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void logf_(gpu_collector *c, const char *msg)
{
    if (c->log)
        c->log(c->ud, msg);
}

/* Classifies a return code. SUCCESS -> true. "No value" answers
 * (NOT_SUPPORTED, missing function, no permission, not found) -> false
 * silently, like a DCGM blank. GPU_IS_LOST marks the device. Anything else
 * is counted and logged the first time it is seen for this GPU. */
static bool ok(gpu_collector *c, size_t i, nvmlReturn_t r)
{
    if (r == NVML_SUCCESS)
        return true;
    if (r == NVML_ERROR_NOT_SUPPORTED || r == NVML_ERROR_FUNCTION_NOT_FOUND || r == NVML_ERROR_NO_PERMISSION ||
        r == NVML_ERROR_NOT_FOUND)
        return false;
    devstate *d = &c->d[i];
    if (r == NVML_ERROR_GPU_IS_LOST) {
        d->lost_now = true;
        return false;
    }
    const char *name = nvml_error_name(r);
    for (size_t k = 0; k < d->nerrs; k++)
        if (d->errs[k].name == name) {
            d->errs[k].count++;
            return false;
        }
    if (d->nerrs < MAX_ERR_KINDS)
        d->errs[d->nerrs++] = (err_count){name, 1};
    char msg[256];
    snprintf(msg, sizeof msg, "GPU %zu (%s): NVML error %s; the affected values are omitted", i, c->ids[i].uuid,
             name);
    logf_(c, msg);
    return false;
}

static void count_lost(gpu_collector *c, size_t i)
{
    devstate *d = &c->d[i];
    const char *name = nvml_error_name(NVML_ERROR_GPU_IS_LOST);
    size_t k;
    for (k = 0; k < d->nerrs; k++)
        if (d->errs[k].name == name)
            break;
    if (k == d->nerrs && d->nerrs < MAX_ERR_KINDS)
        d->errs[d->nerrs++] = (err_count){name, 0};
    if (k < d->nerrs)
        d->errs[k].count++;
    if (!d->lost) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "GPU %zu (%s) is lost (NVML GPU_IS_LOST: fell off the bus?); its metrics are left out until it "
                 "answers again",
                 i, c->ids[i].uuid);
        logf_(c, msg);
    }
    d->lost = true;
}

static long long fv_int(const nvmlFieldValue_t *v)
{
    switch (v->valueType) {
    case 0: return (long long)v->value.dVal;
    case 1: return (long long)v->value.uiVal;
    case 2: return (long long)v->value.ulVal;
    case 3: return (long long)v->value.ullVal;
    case 4: return v->value.sllVal;
    case 5: return (long long)v->value.siVal;
    case 6: return (long long)v->value.usVal;
    default: return (long long)v->value.ullVal;
    }
}

static void set_int(gpu_row *row, gpu_field f, long long v)
{
    row->v[f] = (gpu_val){.ok = true, .i = v};
}

static void read_field_values(gpu_collector *c, size_t i, gpu_row *row)
{
    nvmlFieldValue_t fv[GF_COUNT + 2];
    gpu_field which[GF_COUNT + 2];
    int n = 0;
    for (int f = 0; f < GF_COUNT; f++) {
        const gpu_field_info *fi = gpu_field_get((gpu_field)f);
        if (c->cs->need[f] && fi->src == GPU_SRC_FIELD) {
            memset(&fv[n], 0, sizeof fv[n]);
            fv[n].fieldId = fi->arg;
            which[n++] = (gpu_field)f;
        }
    }
    bool nvl = c->cs->need[GF_NVLINK_BANDWIDTH_TOTAL];
    int nvl_at = n;
    if (nvl) {
        memset(&fv[n], 0, 2 * sizeof fv[0]);
        fv[n].fieldId = NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX;
        fv[n + 1].fieldId = NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX;
        fv[n].scopeId = fv[n + 1].scopeId = NVML_NO_INSTANCE; /* all links */
        n += 2;
    }
    if (!n || !ok(c, i, CALL(c, DeviceGetFieldValues, c->d[i].h, n, fv)))
        return;
    for (int k = 0; k < nvl_at; k++) {
        if (!ok(c, i, fv[k].nvmlReturn))
            continue;
        if (which[k] == GF_MEMORY_TEMP) {
            /* DCGM reads uiVal whatever valueType says (r545 mislabels it). */
            if (fv[k].value.uiVal <= 200)
                set_int(row, GF_MEMORY_TEMP, fv[k].value.uiVal);
        } else {
            set_int(row, which[k], fv_int(&fv[k]));
        }
    }
    if (nvl && ok(c, i, fv[nvl_at].nvmlReturn) && ok(c, i, fv[nvl_at + 1].nvmlReturn)) {
        devstate *d = &c->d[i];
        unsigned long long sum = fv[nvl_at].value.ullVal + fv[nvl_at + 1].value.ullVal; /* KiB */
        long long ts = fv[nvl_at].timestamp > fv[nvl_at + 1].timestamp ? fv[nvl_at].timestamp
                                                                        : fv[nvl_at + 1].timestamp;
        long long v = 0;
        /* DCGM: first read and an all-zero counter give 0; otherwise the
         * delta over the field timestamps (us), KiB/s / 1000. */
        if (d->nvl_prev && sum && ts > d->nvl_ts && sum >= d->nvl_sum)
            v = (long long)((double)(sum - d->nvl_sum) / ((double)(ts - d->nvl_ts) / 1e6) / 1000.0);
        d->nvl_prev = true;
        d->nvl_sum = sum;
        d->nvl_ts = ts;
        set_int(row, GF_NVLINK_BANDWIDTH_TOTAL, v);
    }
}

static void read_memory(gpu_collector *c, size_t i, nvmlDevice_t h, gpu_row *row)
{
    const bool *need = c->cs->need;
    if (!need[GF_FB_FREE] && !need[GF_FB_USED] && !need[GF_FB_RESERVED])
        return;
    nvmlMemory_v2_t m2 = {.version = NVML_MEMORY_V2_VERSION};
    nvmlReturn_t r = CALL(c, DeviceGetMemoryInfo_v2, h, &m2);
    if (r == NVML_SUCCESS) {
        set_int(row, GF_FB_FREE, (long long)(m2.free / 1048576));
        set_int(row, GF_FB_USED, (long long)(m2.used / 1048576));
        set_int(row, GF_FB_RESERVED, (long long)(m2.reserved / 1048576));
        return;
    }
    if (r != NVML_ERROR_FUNCTION_NOT_FOUND && r != NVML_ERROR_NOT_SUPPORTED) {
        ok(c, i, r);
        return;
    }
    /* Drivers before 510: v1 has no reserved figure and counts it as used. */
    nvmlMemory_t m1;
    if (ok(c, i, CALL(c, DeviceGetMemoryInfo, h, &m1))) {
        set_int(row, GF_FB_FREE, (long long)(m1.free / 1048576));
        set_int(row, GF_FB_USED, (long long)(m1.used / 1048576));
    }
}

static void read_gpm(gpu_collector *c, size_t i, gpu_row *row)
{
    devstate *d = &c->d[i];
    if (!d->gpm || !c->need_gpm)
        return;
    double t = now_ms();
    if (!d->gprev || t - d->gprev_ms >= GPM_MIN_INTERVAL_MS) {
        int next = d->gprev ? 1 - d->gcur : d->gcur;
        if (ok(c, i, CALL(c, GpmSampleGet, d->h, d->gs[next]))) {
            if (d->gprev) {
                nvmlGpmMetricsGet_t *q = c->gpm_req;
                memset(q, 0, offsetof(nvmlGpmMetricsGet_t, metrics));
                q->version = NVML_GPM_METRICS_GET_VERSION;
                q->sample1 = d->gs[d->gcur];
                q->sample2 = d->gs[next];
                gpu_field which[GF_COUNT];
                for (int f = 0; f < GF_COUNT; f++) {
                    const gpu_field_info *fi = gpu_field_get((gpu_field)f);
                    if (!c->cs->need[f] || (fi->src != GPU_SRC_GPM_RATIO && fi->src != GPU_SRC_GPM_MIB))
                        continue;
                    memset(&q->metrics[q->numMetrics], 0, sizeof q->metrics[0]);
                    q->metrics[q->numMetrics].metricId = fi->arg;
                    which[q->numMetrics++] = (gpu_field)f;
                }
                if (ok(c, i, CALL(c, GpmMetricsGet, q))) {
                    for (unsigned k = 0; k < q->numMetrics; k++) {
                        gpu_field f = which[k];
                        double v = q->metrics[k].value;
                        gpu_val *out = &d->gpm_vals[f];
                        out->ok = false;
                        if (!ok(c, i, q->metrics[k].nvmlReturn) || isnan(v))
                            continue;
                        if (gpu_field_get(f)->src == GPU_SRC_GPM_RATIO)
                            *out = (gpu_val){.ok = true, .d = v / 100.0};
                        else
                            *out = (gpu_val){.ok = true, .i = (long long)(v * 1048576.0)};
                    }
                }
            }
            d->gcur = next;
            d->gprev = true;
            d->gprev_ms = t;
        }
    }
    for (int f = 0; f < GF_COUNT; f++)
        if (d->gpm_vals[f].ok && c->cs->need[f])
            row->v[f] = d->gpm_vals[f];
}

/* Everything one GPU reports as a whole device. Stops early on GPU_IS_LOST. */
static void read_device(gpu_collector *c, size_t i, gpu_row *row)
{
    devstate *d = &c->d[i];
    nvmlDevice_t h = d->h;
    const bool *need = c->cs->need;
    unsigned u = 0, p = 0;
    if (need[GF_SM_CLOCK] && ok(c, i, CALL(c, DeviceGetClockInfo, h, NVML_CLOCK_SM, &u)))
        set_int(row, GF_SM_CLOCK, u);
    if (d->lost_now)
        return;
    if (need[GF_MEM_CLOCK] && ok(c, i, CALL(c, DeviceGetClockInfo, h, NVML_CLOCK_MEM, &u)))
        set_int(row, GF_MEM_CLOCK, u);
    if (need[GF_GPU_TEMP] && ok(c, i, CALL(c, DeviceGetTemperature, h, NVML_TEMPERATURE_GPU, &u)) && u <= 200)
        set_int(row, GF_GPU_TEMP, u);
    if (need[GF_POWER_USAGE] && ok(c, i, CALL(c, DeviceGetPowerUsage, h, &u)))
        row->v[GF_POWER_USAGE] = (gpu_val){.ok = true, .d = u / 1000.0};
    if (need[GF_PCIE_REPLAY_COUNTER] && ok(c, i, CALL(c, DeviceGetPcieReplayCounter, h, &u)))
        set_int(row, GF_PCIE_REPLAY_COUNTER, u);
    if (d->lost_now)
        return;
    nvmlUtilization_t ut;
    if ((need[GF_GPU_UTIL] || need[GF_MEM_COPY_UTIL]) && ok(c, i, CALL(c, DeviceGetUtilizationRates, h, &ut))) {
        set_int(row, GF_GPU_UTIL, ut.gpu);
        set_int(row, GF_MEM_COPY_UTIL, ut.memory);
    }
    if (need[GF_ENC_UTIL] && ok(c, i, CALL(c, DeviceGetEncoderUtilization, h, &u, &p)))
        set_int(row, GF_ENC_UTIL, u);
    if (need[GF_DEC_UTIL] && ok(c, i, CALL(c, DeviceGetDecoderUtilization, h, &u, &p)))
        set_int(row, GF_DEC_UTIL, u);
    if (d->lost_now)
        return;
    read_memory(c, i, h, row);
    read_field_values(c, i, row);
    if (d->lost_now)
        return;
    if (need[GF_VGPU_LICENSE_STATUS]) {
        nvmlGridLicensableFeatures_t g;
        memset(&g, 0, sizeof g);
        if (ok(c, i, CALL(c, DeviceGetGridLicensableFeatures, h, &g))) {
            long long v = 0;
            if (g.isGridLicenseSupported)
                for (unsigned k = 0; k < g.licensableFeaturesCount && k < 3; k++)
                    if (g.gridLicensableFeatures[k].featureCode == NVML_GRID_LICENSE_FEATURE_CODE_VGPU)
                        v = g.gridLicensableFeatures[k].featureState > 0;
            set_int(row, GF_VGPU_LICENSE_STATUS, v);
        }
    }
    if (need[GF_XID_ERRORS] && gpu_xid_supported(c->xid, i))
        set_int(row, GF_XID_ERRORS, gpu_xid_last(c->xid, i));
    read_gpm(c, i, row);
}

static gpu_row *push_row(gpu_snapshot *s)
{
    if (s->nrows == s->cap_rows) {
        size_t nc = s->cap_rows ? s->cap_rows * 2 : 16;
        gpu_row *nr = realloc(s->rows, nc * sizeof *nr);
        if (!nr)
            return NULL;
        s->rows = nr;
        s->cap_rows = nc;
    }
    return &s->rows[s->nrows++];
}

static int cmp_gi(const void *a, const void *b)
{
    const gpu_row *x = a, *y = b;
    return (x->gi_id > y->gi_id) - (x->gi_id < y->gi_id);
}

/* MIG (flex mode): one row per GPU instance, carrying the parent's device
 * values except utilisation and profiling (not per instance in NVML) and
 * with its own framebuffer figures. Returns the number of rows added. */
static int add_mig_rows(gpu_collector *c, size_t i, const gpu_row *base, gpu_snapshot *s)
{
    nvmlDevice_t h = c->d[i].h;
    unsigned cur = 0, pending = 0;
    if (CALL(c, DeviceGetMigMode, h, &cur, &pending) != NVML_SUCCESS || cur != NVML_DEVICE_MIG_ENABLE)
        return 0;
    struct {
        unsigned id;
        char name[32];
    } prof[MAX_MIG];
    size_t nprof = 0;
    for (unsigned idx = 0; idx < 32 && nprof < MAX_MIG; idx++) {
        nvmlGpuInstanceProfileInfo_t pi;
        memset(&pi, 0, sizeof pi);
        nvmlReturn_t r = CALL(c, DeviceGetGpuInstanceProfileInfo, h, idx, &pi);
        if (r == NVML_ERROR_INVALID_ARGUMENT || r == NVML_ERROR_FUNCTION_NOT_FOUND)
            break;
        if (r != NVML_SUCCESS)
            continue;
        nvmlGpuInstance_t gis[MAX_MIG];
        unsigned ngi = MAX_MIG;
        if (CALL(c, DeviceGetGpuInstances, h, pi.id, gis, &ngi) != NVML_SUCCESS)
            continue;
        for (unsigned k = 0; k < ngi && k < MAX_MIG && nprof < MAX_MIG; k++) {
            nvmlGpuInstanceInfo_t gi;
            if (CALL(c, GpuInstanceGetInfo, gis[k], &gi) != NVML_SUCCESS)
                continue;
            prof[nprof].id = gi.id;
            snprintf(prof[nprof].name, sizeof prof[nprof].name, "%ug.%llugb", pi.sliceCount,
                     (pi.memorySizeMB + 1023) / 1024);
            nprof++;
        }
    }
    unsigned max = 0;
    if (CALL(c, DeviceGetMaxMigDeviceCount, h, &max) != NVML_SUCCESS)
        return 0;
    size_t first = s->nrows;
    for (unsigned k = 0; k < max && k < MAX_MIG; k++) {
        nvmlDevice_t mh;
        unsigned gid;
        if (CALL(c, DeviceGetMigDeviceHandleByIndex, h, k, &mh) != NVML_SUCCESS ||
            CALL(c, DeviceGetGpuInstanceId, mh, &gid) != NVML_SUCCESS)
            continue;
        gpu_row *row = push_row(s);
        if (!row)
            return -1;
        *row = *base;
        row->gi_id = (int)gid;
        snprintf(row->profile, sizeof row->profile, "%s", "");
        for (size_t q = 0; q < nprof; q++)
            if (prof[q].id == gid)
                snprintf(row->profile, sizeof row->profile, "%s", prof[q].name);
        static const gpu_field per_gpu_only[] = {GF_GPU_UTIL, GF_MEM_COPY_UTIL, GF_ENC_UTIL, GF_DEC_UTIL,
                                                 GF_FB_FREE, GF_FB_USED, GF_FB_RESERVED};
        for (size_t q = 0; q < sizeof per_gpu_only / sizeof per_gpu_only[0]; q++)
            row->v[per_gpu_only[q]].ok = false;
        for (int f = GF_PROF_GR_ENGINE_ACTIVE; f < GF_COUNT; f++)
            row->v[f].ok = false;
        read_memory(c, i, mh, row);
    }
    if (s->nrows > first)
        qsort(&s->rows[first], s->nrows - first, sizeof *s->rows, cmp_gi);
    return (int)(s->nrows - first);
}

static void read_comm(unsigned pid, char *out, size_t outlen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/comm", pid);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(out, (int)outlen, f))
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

static int add_procs(gpu_collector *c, size_t i, gpu_snapshot *s)
{
    typedef nvmlReturn_t (*list_fn)(nvmlDevice_t, unsigned *, nvmlProcessInfo_t *);
    list_fn fns[2] = {c->api->DeviceGetComputeRunningProcesses, c->api->DeviceGetGraphicsRunningProcesses};
    size_t first = s->nprocs;
    for (int k = 0; k < 2; k++) {
        if (!fns[k])
            continue;
        unsigned n = c->proccap;
        nvmlReturn_t r = fns[k](c->d[i].h, &n, c->procbuf);
        if (r == NVML_ERROR_INSUFFICIENT_SIZE) {
            /* The list is dynamic: leave room for processes that start now. */
            unsigned want = n + 16;
            nvmlProcessInfo_t *nb = realloc(c->procbuf, want * sizeof *nb);
            if (!nb)
                return -1;
            c->procbuf = nb;
            c->proccap = want;
            n = want;
            r = fns[k](c->d[i].h, &n, c->procbuf);
        }
        if (!ok(c, i, r))
            continue;
        for (unsigned j = 0; j < n; j++) {
            const nvmlProcessInfo_t *pi = &c->procbuf[j];
            if (pi->usedGpuMemory == NVML_VALUE_NOT_AVAILABLE)
                continue;
            /* A process using compute and graphics is listed twice with the
             * same memory; keep one row per pid. */
            size_t q;
            for (q = first; q < s->nprocs; q++)
                if (s->procs[q].pid == pi->pid)
                    break;
            if (q < s->nprocs) {
                if (pi->usedGpuMemory > s->procs[q].bytes)
                    s->procs[q].bytes = pi->usedGpuMemory;
                continue;
            }
            if (s->nprocs == s->cap_procs) {
                size_t nc = s->cap_procs ? s->cap_procs * 2 : 16;
                gpu_proc *np = realloc(s->procs, nc * sizeof *np);
                if (!np)
                    return -1;
                s->procs = np;
                s->cap_procs = nc;
            }
            gpu_proc *p = &s->procs[s->nprocs++];
            p->dev = i;
            p->pid = pi->pid;
            p->bytes = pi->usedGpuMemory;
            read_comm(pi->pid, p->comm, sizeof p->comm);
        }
    }
    return 0;
}

int gpu_collector_collect(gpu_collector *c, gpu_snapshot *s)
{
    s->nrows = s->nprocs = s->nerrs = 0;
    s->devs = c->ids;
    s->ndevs = c->n;
    snprintf(s->driver_version, sizeof s->driver_version, "%s", c->driver);
    snprintf(s->nvml_version, sizeof s->nvml_version, "%s", c->nvml_version);
    for (size_t i = 0; i < c->n; i++) {
        devstate *d = &c->d[i];
        d->lost_now = false;
        gpu_row base;
        memset(&base, 0, sizeof base);
        base.dev = i;
        base.gi_id = -1;
        read_device(c, i, &base);
        if (!d->lost_now && add_procs(c, i, s) < 0)
            return -1;
        if (d->lost_now) {
            /* Drop what was read before the GPU stopped answering. */
            while (s->nprocs && s->procs[s->nprocs - 1].dev == i)
                s->nprocs--;
            count_lost(c, i);
            continue;
        }
        if (d->lost) {
            char msg[160];
            snprintf(msg, sizeof msg, "GPU %zu (%s) answers again", i, c->ids[i].uuid);
            logf_(c, msg);
            d->lost = false;
        }
        int mig = add_mig_rows(c, i, &base, s);
        if (mig < 0)
            return -1;
        if (mig == 0) {
            gpu_row *row = push_row(s);
            if (!row)
                return -1;
            *row = base;
        }
    }
    size_t nlost = 0;
    for (size_t i = 0; i < c->n; i++)
        nlost += c->d[i].lost;
    atomic_store(&c->nlost, nlost);
    for (size_t i = 0; i < c->n; i++)
        for (size_t k = 0; k < c->d[i].nerrs; k++) {
            if (s->nerrs == s->cap_errs) {
                size_t nc = s->cap_errs ? s->cap_errs * 2 : 8;
                gpu_err *ne = realloc(s->errs, nc * sizeof *ne);
                if (!ne)
                    return -1;
                s->errs = ne;
                s->cap_errs = nc;
            }
            s->errs[s->nerrs++] = (gpu_err){i, c->d[i].errs[k].name, c->d[i].errs[k].count};
        }
    return 0;
}

static void xid_log(void *ud, const char *msg)
{
    logf_(ud, msg);
}

gpu_collector *gpu_collector_new(const gpu_collector_config *cfg, char *err, size_t errlen)
{
    const char *lib = cfg->nvml_lib ? cfg->nvml_lib : "libnvidia-ml.so.1";
    char why[512];
    nvml_api *api = nvml_load(cfg->nvml_lib, why, sizeof why);
    if (!api) {
        snprintf(err, errlen, "NVML not found (%s)", why);
        return NULL;
    }
    nvmlReturn_t r = api->Init();
    if (r != NVML_SUCCESS) {
        const char *es = api->ErrorString ? api->ErrorString(r) : NULL;
        snprintf(err, errlen, "NVML failed to initialise (%s: %s%s%s)", lib, nvml_error_name(r), es ? ", " : "",
                 es ? es : "");
        nvml_unload(api);
        return NULL;
    }
    gpu_collector *c = calloc(1, sizeof *c);
    if (!c) {
        api->Shutdown();
        nvml_unload(api);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->api = api;
    c->cs = cfg->counters;
    c->log = cfg->log;
    c->ud = cfg->ud;
    unsigned n = 0;
    r = api->DeviceGetCount(&n);
    if (r != NVML_SUCCESS) {
        snprintf(err, errlen, "NVML cannot count GPUs (%s)", nvml_error_name(r));
        goto fail;
    }
    c->n = n;
    c->d = calloc(n ? n : 1, sizeof *c->d);
    c->ids = calloc(n ? n : 1, sizeof *c->ids);
    c->handles = calloc(n ? n : 1, sizeof *c->handles);
    c->gpm_req = calloc(1, sizeof *c->gpm_req);
    c->proccap = 64;
    c->procbuf = calloc(c->proccap, sizeof *c->procbuf);
    if (!c->d || !c->ids || !c->handles || !c->gpm_req || !c->procbuf) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (api->SystemGetDriverVersion && api->SystemGetDriverVersion(c->driver, sizeof c->driver) != NVML_SUCCESS)
        c->driver[0] = '\0';
    if (api->SystemGetNVMLVersion &&
        api->SystemGetNVMLVersion(c->nvml_version, sizeof c->nvml_version) != NVML_SUCCESS)
        c->nvml_version[0] = '\0';
    for (int f = 0; f < GF_COUNT; f++) {
        gpu_source src = gpu_field_get((gpu_field)f)->src;
        if (c->cs->need[f] && (src == GPU_SRC_GPM_RATIO || src == GPU_SRC_GPM_MIB))
            c->need_gpm = true;
    }
    for (unsigned i = 0; i < n; i++) {
        devstate *d = &c->d[i];
        gpu_dev *id = &c->ids[i];
        id->index = i;
        r = api->DeviceGetHandleByIndex(i, &d->h);
        if (r != NVML_SUCCESS) {
            snprintf(err, errlen, "NVML cannot open GPU %u (%s)", i, nvml_error_name(r));
            goto fail;
        }
        c->handles[i] = d->h;
        if (!api->DeviceGetUUID || api->DeviceGetUUID(d->h, id->uuid, sizeof id->uuid) != NVML_SUCCESS)
            id->uuid[0] = '\0';
        if (!api->DeviceGetName || api->DeviceGetName(d->h, id->name, sizeof id->name) != NVML_SUCCESS)
            id->name[0] = '\0';
        nvmlPciInfo_t pci;
        memset(&pci, 0, sizeof pci);
        if (api->DeviceGetPciInfo && api->DeviceGetPciInfo(d->h, &pci) == NVML_SUCCESS)
            snprintf(id->bus_id, sizeof id->bus_id, "%.*s", (int)sizeof pci.busId, pci.busId);
        nvmlGpmSupport_t gs = {.version = NVML_GPM_SUPPORT_VERSION};
        if (c->need_gpm && api->GpmQueryDeviceSupport && api->GpmSampleAlloc && api->GpmSampleGet &&
            api->GpmMetricsGet && api->GpmQueryDeviceSupport(d->h, &gs) == NVML_SUCCESS && gs.isSupportedDevice &&
            api->GpmSampleAlloc(&d->gs[0]) == NVML_SUCCESS) {
            if (api->GpmSampleAlloc(&d->gs[1]) == NVML_SUCCESS) {
                d->gpm = true;
                /* A first sample now, so the first scrape (>= 100 ms later)
                 * already has a pair to compute from. */
                if (api->GpmSampleGet(d->h, d->gs[0]) == NVML_SUCCESS) {
                    d->gprev = true;
                    d->gprev_ms = now_ms();
                }
            } else if (api->GpmSampleFree) {
                api->GpmSampleFree(d->gs[0]);
            }
        }
    }
    if (c->cs->need[GF_XID_ERRORS])
        c->xid = gpu_xid_start(api, c->handles, c->n, xid_log, c);
    return c;
fail:
    gpu_collector_free(c);
    return NULL;
}

size_t gpu_collector_ngpus(const gpu_collector *c)
{
    return c->n;
}

const gpu_dev *gpu_collector_dev(const gpu_collector *c, size_t i)
{
    return i < c->n ? &c->ids[i] : NULL;
}

size_t gpu_collector_nlost(const gpu_collector *c)
{
    return atomic_load(&((gpu_collector *)c)->nlost);
}

void gpu_collector_free(gpu_collector *c)
{
    if (!c)
        return;
    gpu_xid_stop(c->xid);
    if (c->d)
        for (size_t i = 0; i < c->n; i++)
            if (c->d[i].gpm && c->api->GpmSampleFree) {
                c->api->GpmSampleFree(c->d[i].gs[0]);
                c->api->GpmSampleFree(c->d[i].gs[1]);
            }
    c->api->Shutdown();
    nvml_unload(c->api);
    free(c->d);
    free(c->ids);
    free(c->handles);
    free(c->gpm_req);
    free(c->procbuf);
    free(c);
}

void gpu_snapshot_free(gpu_snapshot *s)
{
    free(s->rows);
    free(s->procs);
    free(s->errs);
    memset(s, 0, sizeof *s);
}
