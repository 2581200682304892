/* The standard Prometheus process_* metrics for the running process, read
 * from /proc/self (the same names, help texts and types as the official
 * client libraries' process collector), so dashboards built for any
 * exporter work:
 *   process_cpu_seconds_total, process_max_fds, process_open_fds,
 *   process_resident_memory_bytes, process_start_time_seconds,
 *   process_virtual_memory_bytes.
 * Safe to call from any thread; a value that cannot be read is left out. */
#ifndef TOLLGATE_METRICS_PROCESS_H
#define TOLLGATE_METRICS_PROCESS_H

#include "util/buf.h"

void process_metrics_write(buf *out);

#endif
