/* A scripted stand-in for libnvidia-ml.so.1, loaded by `tollgate gpu
 * --nvml-lib` in tests and benchmarks. It implements exactly the symbols
 * src/gpu/nvml.c resolves, with the documented ABI, and fixed values so the
 * exporter's output can be compared byte for byte.
 *
 * FAKE_NVML_SCENARIO selects the machine:
 *   basic     2 GPUs: GPU 0 an H100 with everything (GPM, processes),
 *             GPU 1 an A100 answering NOT_SUPPORTED for several fields
 *   lost      basic, plus GPU 1's PCIe replay counter fails with UNKNOWN and
 *             GPU 1 answers GPU_IS_LOST while $FAKE_NVML_LOST_FILE exists
 *   mig       basic, with GPU 0 in MIG mode (instances 1g.10gb id 7, 3g.40gb id 1)
 *   8gpu      8 H100s (benchmarks)
 *   nogpu     driver present, no GPU
 *   initfail  nvmlInit_v2 fails with DRIVER_NOT_LOADED
 * An XID is delivered when $FAKE_NVML_XID_FILE exists ("<gpu> <xid>"); the
 * file is removed once read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int nvmlReturn_t;

#define MAXD 8
enum { OK = 0, INVALID_ARGUMENT = 2, NOT_SUPPORTED = 3, NOT_FOUND = 6, INSUFFICIENT_SIZE = 7,
       DRIVER_NOT_LOADED = 9, TIMEOUT = 10, GPU_IS_LOST = 15, UNKNOWN = 999 };

typedef struct fake_dev {
    int index;  /* parent GPU index */
    int mig_gi; /* -1 for a whole GPU, else the GPU instance id */
} fake_dev;

static fake_dev devs[MAXD];
static fake_dev migdevs[2] = {{0, 7}, {0, 1}};
static int ndev;
static char scenario[32];
static unsigned long long nvl_calls[MAXD];

static int is(const char *s) { return !strcmp(scenario, s); }

static int lost(const fake_dev *d)
{
    const char *f = getenv("FAKE_NVML_LOST_FILE");
    return is("lost") && d->index == 1 && f && access(f, F_OK) == 0;
}

/* The A100 (GPU 1 outside 8gpu) lacks GPM, enc/dec, memory temperature, vGPU. */
static int plain(const fake_dev *d) { return d->index == 1 && !is("8gpu"); }

#define DEV(d) const fake_dev *fd = (const fake_dev *)(d); if (!fd) return INVALID_ARGUMENT; if (lost(fd)) return GPU_IS_LOST

nvmlReturn_t nvmlInit_v2(void)
{
    const char *s = getenv("FAKE_NVML_SCENARIO");
    snprintf(scenario, sizeof scenario, "%s", s ? s : "basic");
    if (is("initfail"))
        return DRIVER_NOT_LOADED;
    ndev = is("8gpu") ? 8 : is("nogpu") ? 0 : 2;
    for (int i = 0; i < ndev; i++)
        devs[i] = (fake_dev){i, -1};
    return OK;
}
nvmlReturn_t nvmlShutdown(void) { return OK; }
const char *nvmlErrorString(nvmlReturn_t r) { return r == DRIVER_NOT_LOADED ? "Driver Not Loaded" : "Fake Error"; }
nvmlReturn_t nvmlSystemGetDriverVersion(char *b, unsigned n) { snprintf(b, n, "550.54.15"); return OK; }
nvmlReturn_t nvmlSystemGetNVMLVersion(char *b, unsigned n) { snprintf(b, n, "12.550.54.15"); return OK; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *n) { *n = (unsigned)ndev; return OK; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, void **h)
{
    if (i >= (unsigned)ndev)
        return INVALID_ARGUMENT;
    *h = &devs[i];
    return OK;
}
nvmlReturn_t nvmlDeviceGetIndex(void *h, unsigned *i) { DEV(h); *i = (unsigned)fd->index; return OK; }
nvmlReturn_t nvmlDeviceGetName(void *h, char *b, unsigned n)
{
    DEV(h);
    snprintf(b, n, "%s", plain(fd) ? "NVIDIA A100-SXM4-40GB" : "NVIDIA H100 80GB HBM3");
    return OK;
}
nvmlReturn_t nvmlDeviceGetUUID(void *h, char *b, unsigned n)
{
    DEV(h);
    snprintf(b, n, "GPU-11111111-2222-3333-4444-55555555550%d", fd->index);
    return OK;
}
typedef struct {
    char busIdLegacy[16];
    unsigned domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} pci_t;
nvmlReturn_t nvmlDeviceGetPciInfo_v3(void *h, pci_t *p)
{
    DEV(h);
    memset(p, 0, sizeof *p);
    p->bus = 0x18 + 0x23u * (unsigned)fd->index;
    snprintf(p->busId, sizeof p->busId, "%08X:%02X:%02X.0", 0u, p->bus, 0u);
    snprintf(p->busIdLegacy, sizeof p->busIdLegacy, "%04X:%02X:%02X.0", 0u, p->bus, 0u);
    p->pciDeviceId = 0x233010DE;
    return OK;
}
nvmlReturn_t nvmlDeviceGetClockInfo(void *h, int type, unsigned *v)
{
    DEV(h);
    *v = type == 1 ? 1980u - 10u * (unsigned)fd->index : type == 2 ? 2619u : 0u;
    return OK;
}
nvmlReturn_t nvmlDeviceGetTemperature(void *h, int sensor, unsigned *v) { DEV(h); *v = 40u + (unsigned)fd->index; return sensor ? INVALID_ARGUMENT : OK; }
nvmlReturn_t nvmlDeviceGetPowerUsage(void *h, unsigned *mw) { DEV(h); *mw = 123456u + 1000u * (unsigned)fd->index; return OK; }
nvmlReturn_t nvmlDeviceGetPcieReplayCounter(void *h, unsigned *v)
{
    DEV(h);
    if (is("lost") && fd->index == 1)
        return UNKNOWN;
    *v = 3u + (unsigned)fd->index;
    return OK;
}
typedef struct { unsigned gpu, memory; } util_t;
nvmlReturn_t nvmlDeviceGetUtilizationRates(void *h, util_t *u)
{
    DEV(h);
    if (fd->mig_gi >= 0)
        return NOT_SUPPORTED;
    u->gpu = 45u + (unsigned)fd->index;
    u->memory = 20u + (unsigned)fd->index;
    return OK;
}
nvmlReturn_t nvmlDeviceGetEncoderUtilization(void *h, unsigned *u, unsigned *p) { DEV(h); if (plain(fd)) return NOT_SUPPORTED; *u = 0; *p = 167000; return OK; }
nvmlReturn_t nvmlDeviceGetDecoderUtilization(void *h, unsigned *u, unsigned *p) { DEV(h); if (plain(fd)) return NOT_SUPPORTED; *u = 7; *p = 167000; return OK; }
typedef struct { unsigned version; unsigned long long total, reserved, free, used; } mem2_t;
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(void *h, mem2_t *m)
{
    DEV(h);
    if (m->version != 0x02000028u)
        return 13; /* what real drivers answer to a wrong version */
    const unsigned long long MiB = 1048576ULL;
    if (fd->mig_gi >= 0) {
        m->total = (fd->mig_gi == 7 ? 9856ULL : 40192ULL) * MiB;
        m->reserved = 0;
        m->used = (fd->mig_gi == 7 ? 100ULL : 2000ULL) * MiB + 5;
    } else {
        m->total = (plain(fd) ? 40960ULL : 81559ULL) * MiB;
        m->reserved = 457ULL * MiB + 123;
        m->used = (1000ULL + (unsigned)fd->index) * MiB + MiB - 1; /* truncates to 1000 + index */
    }
    m->free = m->total - m->reserved - m->used;
    return OK;
}
typedef struct { unsigned long long total, free, used; } mem1_t;
nvmlReturn_t nvmlDeviceGetMemoryInfo(void *h, mem1_t *m) { DEV(h); (void)m; return NOT_SUPPORTED; }
typedef struct {
    unsigned fieldId, scopeId;
    long long timestamp, latencyUsec;
    int valueType;
    nvmlReturn_t nvmlReturn;
    union { double d; unsigned ui; unsigned long long ull; long long sll; } value;
} fv_t;
nvmlReturn_t nvmlDeviceGetFieldValues(void *h, int n, fv_t *v)
{
    DEV(h);
    int i = fd->index;
    unsigned long long call = ++nvl_calls[i];
    for (int k = 0; k < n; k++) {
        v[k].nvmlReturn = OK;
        v[k].valueType = 3;
        v[k].timestamp = 1700000000000000LL + (long long)call * 1000000LL;
        switch (v[k].fieldId) {
        case 82: /* memory temperature, reported as double by r545 drivers: DCGM reads uiVal */
            if (plain(fd)) v[k].nvmlReturn = NOT_SUPPORTED;
            else { v[k].valueType = 0; v[k].value.ui = 55u + (unsigned)i; }
            break;
        case 83: v[k].value.ull = 987654321ULL + (unsigned)i; break;
        case 142: v[k].value.ull = 2; break;
        case 143: v[k].value.ull = 1; break;
        case 145: v[k].valueType = 1; v[k].value.ui = 0; break;
        case 138: v[k].value.ull = call * 3000ULL; break; /* KiB, all links: 3000 KiB/s */
        case 139: v[k].value.ull = call * 2000ULL; break; /* 2000 KiB/s -> 5 "MB/s" total */
        case 3: case 4: case 5: case 6: v[k].value.ull = (unsigned long long)v[k].fieldId * 10; break;
        default: v[k].nvmlReturn = NOT_SUPPORTED;
        }
    }
    return OK;
}
typedef struct {
    int featureCode;
    unsigned featureState;
    char licenseInfo[128], productName[128];
    unsigned featureEnabled;
    unsigned char expiry[16];
} lf_t;
typedef struct { int isGridLicenseSupported; unsigned count; lf_t f[3]; } lfs_t;
nvmlReturn_t nvmlDeviceGetGridLicensableFeatures_v4(void *h, lfs_t *g)
{
    DEV(h);
    if (plain(fd))
        return NOT_SUPPORTED;
    memset(g, 0, sizeof *g);
    return OK;
}
typedef struct { unsigned pid; unsigned long long used; unsigned gi, ci; } proc_t;
static nvmlReturn_t procs(const fake_dev *fd, unsigned *count, proc_t *p, int graphics)
{
    if (fd->index != 0 || is("8gpu")) {
        *count = 0;
        return OK;
    }
    unsigned want = graphics ? 1 : 2;
    if (*count < want) {
        *count = want;
        return INSUFFICIENT_SIZE;
    }
    *count = want;
    p[0] = (proc_t){(unsigned)getpid(), 2048ULL * 1048576ULL, 0xFFFFFFFFu, 0xFFFFFFFFu};
    if (!graphics)
        p[1] = (proc_t){999999999u, 512ULL * 1048576ULL, 0xFFFFFFFFu, 0xFFFFFFFFu};
    return OK;
}
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(void *h, unsigned *c, proc_t *p) { DEV(h); return procs(fd, c, p, 0); }
nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(void *h, unsigned *c, proc_t *p) { DEV(h); return procs(fd, c, p, 1); }

/* ---- events ---- */
static int evset;
typedef struct { void *device; unsigned long long type, data; unsigned gi, ci; } event_t;
nvmlReturn_t nvmlEventSetCreate(void **set) { *set = &evset; return OK; }
nvmlReturn_t nvmlDeviceRegisterEvents(void *h, unsigned long long types, void *set)
{
    DEV(h);
    (void)set;
    (void)fd;
    return types == 0x8ULL ? OK : NOT_SUPPORTED;
}
nvmlReturn_t nvmlEventSetWait_v2(void *set, event_t *ev, unsigned timeout_ms)
{
    (void)set;
    const char *f = getenv("FAKE_NVML_XID_FILE");
    if (!f) { /* nothing scripted: block like the driver does, without polling */
        struct timespec ts = {(time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return TIMEOUT;
    }
    for (unsigned waited = 0;; waited += 20) {
        FILE *fp = f ? fopen(f, "r") : NULL;
        if (fp) {
            int gpu = -1;
            unsigned long long xid = 0;
            int got = fscanf(fp, "%d %llu", &gpu, &xid);
            fclose(fp);
            if (got == 2 && gpu >= 0 && gpu < ndev) {
                unlink(f);
                memset(ev, 0, sizeof *ev);
                ev->device = &devs[gpu];
                ev->type = 0x8ULL;
                ev->data = xid;
                ev->gi = ev->ci = 0xFFFFFFFFu;
                return OK;
            }
        }
        if (waited >= timeout_ms)
            return TIMEOUT;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
nvmlReturn_t nvmlEventSetFree(void *set) { (void)set; return OK; }

/* ---- GPM: GPU 0 (and every GPU of 8gpu) is a Hopper ---- */
typedef struct { unsigned version, isSupportedDevice; } gpms_t;
typedef struct { unsigned metricId; nvmlReturn_t ret; double value; char *s, *l, *u; } gpmm_t;
typedef struct { unsigned version, numMetrics; void *s1, *s2; gpmm_t m[333]; } gpmg_t;
static int samples[2 * MAXD];
static int nsamples;
nvmlReturn_t nvmlGpmQueryDeviceSupport(void *h, gpms_t *s)
{
    DEV(h);
    if (s->version != 1)
        return 25;
    s->isSupportedDevice = !plain(fd);
    return OK;
}
nvmlReturn_t nvmlGpmSampleAlloc(void **s) { if (nsamples >= 2 * MAXD) return 20; *s = &samples[nsamples++]; return OK; }
nvmlReturn_t nvmlGpmSampleFree(void *s) { (void)s; return OK; }
nvmlReturn_t nvmlGpmSampleGet(void *h, void *s) { DEV(h); (void)s; return plain(fd) ? NOT_SUPPORTED : OK; }
nvmlReturn_t nvmlGpmMetricsGet(gpmg_t *g)
{
    if (g->version != 1 || !g->s1 || !g->s2 || g->s1 == g->s2)
        return INVALID_ARGUMENT;
    for (unsigned k = 0; k < g->numMetrics; k++) {
        gpmm_t *m = &g->m[k];
        m->ret = OK;
        switch (m->metricId) {
        case 1: m->value = 12.5; break;   /* graphics util % */
        case 5: m->value = 50.0; break;   /* any tensor % */
        case 10: m->value = 25.25; break; /* DRAM bandwidth % */
        case 20: m->value = 1.5; break;   /* PCIe TX MiB/s */
        case 21: m->value = 2.0; break;   /* PCIe RX MiB/s */
        default: m->ret = NOT_SUPPORTED;
        }
    }
    return OK;
}

/* ---- MIG ---- */
typedef struct { unsigned id, p2p, slices, count, mp, ce, dec, enc, jpg, ofa; unsigned long long memMB; } gip_t;
typedef struct { void *device; unsigned id, profileId, start, size; } gii_t;
static int gis[2];
static int mig(const fake_dev *d) { return is("mig") && d->index == 0 && d->mig_gi < 0; }
nvmlReturn_t nvmlDeviceGetMigMode(void *h, unsigned *cur, unsigned *pending)
{
    DEV(h);
    *cur = *pending = (unsigned)mig(fd);
    return OK;
}
nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfo(void *h, unsigned idx, gip_t *p)
{
    DEV(h);
    if (!mig(fd))
        return NOT_SUPPORTED;
    memset(p, 0, sizeof *p);
    if (idx == 0) { p->id = 0; p->slices = 1; p->memMB = 9856; return OK; }
    if (idx == 1) return NOT_SUPPORTED; /* skipped, enumeration goes on */
    if (idx == 2) { p->id = 2; p->slices = 3; p->memMB = 40192; return OK; }
    return INVALID_ARGUMENT;
}
nvmlReturn_t nvmlDeviceGetGpuInstances(void *h, unsigned profile, void **out, unsigned *count)
{
    DEV(h);
    if (!mig(fd) || *count < 1)
        return INVALID_ARGUMENT;
    out[0] = &gis[profile == 0 ? 0 : 1];
    *count = 1;
    return OK;
}
nvmlReturn_t nvmlGpuInstanceGetInfo(void *gi, gii_t *info)
{
    memset(info, 0, sizeof *info);
    info->device = &devs[0];
    info->id = gi == &gis[0] ? 7 : 1;
    info->profileId = gi == &gis[0] ? 0 : 2;
    return OK;
}
nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(void *h, unsigned *n) { DEV(h); *n = mig(fd) ? 7 : 0; return OK; }
nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(void *h, unsigned i, void **out)
{
    DEV(h);
    if (!mig(fd) || i >= 2)
        return NOT_FOUND;
    *out = &migdevs[i];
    return OK;
}
nvmlReturn_t nvmlDeviceGetGpuInstanceId(void *h, unsigned *id)
{
    DEV(h);
    if (fd->mig_gi < 0)
        return INVALID_ARGUMENT;
    *id = (unsigned)fd->mig_gi;
    return OK;
}
