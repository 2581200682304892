#include "gpu/nvml.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Struct layouts must match the driver's ABI byte for byte; a mismatch would
 * silently read garbage, so check the documented sizes at compile time. */
_Static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t ABI");
_Static_assert(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t ABI");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t ABI");
_Static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t ABI");
_Static_assert(sizeof(nvmlEventData_t) == 32, "nvmlEventData_t ABI");
_Static_assert(sizeof(nvmlGpmMetric_t) == 40, "nvmlGpmMetric_t ABI");
_Static_assert(sizeof(nvmlGridLicensableFeatures_t) == 860, "nvmlGridLicensableFeatures_t ABI");
_Static_assert(sizeof(nvmlGpuInstanceProfileInfo_t) == 48, "nvmlGpuInstanceProfileInfo_t ABI");
_Static_assert(sizeof(nvmlGpuInstanceInfo_t) == 24, "nvmlGpuInstanceInfo_t ABI");
_Static_assert(offsetof(nvmlGpmMetricsGet_t, metrics) == 24, "nvmlGpmMetricsGet_t ABI");

/* dlsym returns void*; copying the bytes into the function pointer avoids
 * an object-to-function pointer cast, which ISO C leaves undefined. */
#define RESOLVE(field, name)                                                                                 \
    do {                                                                                                     \
        void *p_ = dlsym(api->dl, name);                                                                       \
        memcpy(&api->field, &p_, sizeof p_);                                                                 \
    } while (0)

nvml_api *nvml_load(const char *path, char *err, size_t errlen)
{
    const char *lib = path ? path : "libnvidia-ml.so.1";
    nvml_api *api = calloc(1, sizeof *api);
    if (!api) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    dlerror();
    api->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!api->dl) {
        /* dlerror() already names the file: "X: cannot open shared object file: ..." */
        const char *e = dlerror();
        snprintf(err, errlen, "%s", e ? e : lib);
        free(api);
        return NULL;
    }
    RESOLVE(Init, "nvmlInit_v2");
    RESOLVE(Shutdown, "nvmlShutdown");
    RESOLVE(DeviceGetCount, "nvmlDeviceGetCount_v2");
    RESOLVE(DeviceGetHandleByIndex, "nvmlDeviceGetHandleByIndex_v2");
    if (!api->Init || !api->Shutdown || !api->DeviceGetCount || !api->DeviceGetHandleByIndex) {
        snprintf(err, errlen, "%s: not a usable NVML library (nvmlInit_v2/nvmlDeviceGetCount_v2 missing)", lib);
        dlclose(api->dl);
        free(api);
        return NULL;
    }
    RESOLVE(ErrorString, "nvmlErrorString");
    RESOLVE(SystemGetDriverVersion, "nvmlSystemGetDriverVersion");
    RESOLVE(SystemGetNVMLVersion, "nvmlSystemGetNVMLVersion");
    RESOLVE(DeviceGetIndex, "nvmlDeviceGetIndex");
    RESOLVE(DeviceGetName, "nvmlDeviceGetName");
    RESOLVE(DeviceGetUUID, "nvmlDeviceGetUUID");
    RESOLVE(DeviceGetPciInfo, "nvmlDeviceGetPciInfo_v3");
    RESOLVE(DeviceGetClockInfo, "nvmlDeviceGetClockInfo");
    RESOLVE(DeviceGetTemperature, "nvmlDeviceGetTemperature");
    RESOLVE(DeviceGetPowerUsage, "nvmlDeviceGetPowerUsage");
    RESOLVE(DeviceGetPcieReplayCounter, "nvmlDeviceGetPcieReplayCounter");
    RESOLVE(DeviceGetUtilizationRates, "nvmlDeviceGetUtilizationRates");
    RESOLVE(DeviceGetEncoderUtilization, "nvmlDeviceGetEncoderUtilization");
    RESOLVE(DeviceGetDecoderUtilization, "nvmlDeviceGetDecoderUtilization");
    RESOLVE(DeviceGetMemoryInfo, "nvmlDeviceGetMemoryInfo");
    RESOLVE(DeviceGetMemoryInfo_v2, "nvmlDeviceGetMemoryInfo_v2");
    RESOLVE(DeviceGetFieldValues, "nvmlDeviceGetFieldValues");
    RESOLVE(DeviceGetGridLicensableFeatures, "nvmlDeviceGetGridLicensableFeatures_v4");
    RESOLVE(DeviceGetComputeRunningProcesses, "nvmlDeviceGetComputeRunningProcesses_v3");
    RESOLVE(DeviceGetGraphicsRunningProcesses, "nvmlDeviceGetGraphicsRunningProcesses_v3");
    RESOLVE(EventSetCreate, "nvmlEventSetCreate");
    RESOLVE(DeviceRegisterEvents, "nvmlDeviceRegisterEvents");
    RESOLVE(EventSetWait, "nvmlEventSetWait_v2");
    RESOLVE(EventSetFree, "nvmlEventSetFree");
    RESOLVE(GpmQueryDeviceSupport, "nvmlGpmQueryDeviceSupport");
    RESOLVE(GpmSampleAlloc, "nvmlGpmSampleAlloc");
    RESOLVE(GpmSampleFree, "nvmlGpmSampleFree");
    RESOLVE(GpmSampleGet, "nvmlGpmSampleGet");
    RESOLVE(GpmMetricsGet, "nvmlGpmMetricsGet");
    RESOLVE(DeviceGetMigMode, "nvmlDeviceGetMigMode");
    RESOLVE(DeviceGetMaxMigDeviceCount, "nvmlDeviceGetMaxMigDeviceCount");
    RESOLVE(DeviceGetMigDeviceHandleByIndex, "nvmlDeviceGetMigDeviceHandleByIndex");
    RESOLVE(DeviceGetGpuInstanceId, "nvmlDeviceGetGpuInstanceId");
    RESOLVE(DeviceGetGpuInstanceProfileInfo, "nvmlDeviceGetGpuInstanceProfileInfo");
    RESOLVE(DeviceGetGpuInstances, "nvmlDeviceGetGpuInstances");
    RESOLVE(GpuInstanceGetInfo, "nvmlGpuInstanceGetInfo");
    return api;
}

void nvml_unload(nvml_api *api)
{
    if (!api)
        return;
    if (api->dl)
        dlclose(api->dl);
    free(api);
}

const char *nvml_error_name(nvmlReturn_t r)
{
    static const char *names[] = {
        "SUCCESS", "UNINITIALIZED", "INVALID_ARGUMENT", "NOT_SUPPORTED", "NO_PERMISSION",
        "ALREADY_INITIALIZED", "NOT_FOUND", "INSUFFICIENT_SIZE", "INSUFFICIENT_POWER", "DRIVER_NOT_LOADED",
        "TIMEOUT", "IRQ_ISSUE", "LIBRARY_NOT_FOUND", "FUNCTION_NOT_FOUND", "CORRUPTED_INFOROM",
        "GPU_IS_LOST", "RESET_REQUIRED", "OPERATING_SYSTEM", "LIB_RM_VERSION_MISMATCH", "IN_USE",
        "MEMORY", "NO_DATA", "VGPU_ECC_NOT_SUPPORTED", "INSUFFICIENT_RESOURCES", "FREQ_NOT_SUPPORTED",
        "ARGUMENT_VERSION_MISMATCH", "DEPRECATED", "NOT_READY", "GPU_NOT_FOUND", "INVALID_STATE",
        "RESET_TYPE_NOT_SUPPORTED",
    };
    if (r >= 0 && (size_t)r < sizeof names / sizeof names[0])
        return names[r];
    return "UNKNOWN";
}
