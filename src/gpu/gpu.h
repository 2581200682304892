/* `tollgate gpu`: a dcgm-exporter-compatible GPU exporter on NVML (no DCGM).
 * See docs/gpu.md. */
#ifndef TOLLGATE_GPU_H
#define TOLLGATE_GPU_H
/* Entry point of 'tollgate gpu'; argv[0] is "gpu". Returns the exit code. */
int gpu_main(int argc, char **argv);
#endif
