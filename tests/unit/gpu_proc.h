/* Test helper: run `tollgate gpu ...` as a child process, wait for lines in
 * its log (never for a fixed time) and make plain HTTP/1.1 requests. */
#ifndef TOLLGATE_TESTS_GPU_PROC_H
#define TOLLGATE_TESTS_GPU_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int err_fd;      /* child's stderr */
    int port;
    char log[65536]; /* everything read from stderr so far */
    size_t log_len;
} gproc;

/* Starts $TOLLGATE_BIN with argv (NULL-terminated, without the binary) and
 * env entries "K=V" (NULL-terminated) added. Waits for "listening on" and
 * returns 0, or -1 (the log is in p->log) when the process exits first or
 * after timeout_ms. */
int gproc_start(gproc *p, const char *const *argv, const char *const *env, int timeout_ms);
/* Waits until the log contains needle; 0 or -1 on timeout/exit. */
int gproc_wait_log(gproc *p, const char *needle, int timeout_ms);
/* Waits for the process to exit; returns its exit status or -1. */
int gproc_wait_exit(gproc *p, int timeout_ms);
/* SIGTERM and reap; returns the exit status (0 after a clean shutdown). */
int gproc_stop(gproc *p);
/* GET path; returns the status code and a malloc'd body (*body). */
int http_get(int port, const char *path, char **body, size_t *len);
/* $TOLLGATE_BUILD/libfake_nvml.so */
const char *fake_nvml_path(void);

#endif
