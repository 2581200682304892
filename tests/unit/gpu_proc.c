#include "gpu_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what stderr has, blocking up to ms. Returns -1 on EOF. */
static int pump(gproc *p, int ms)
{
    struct pollfd pf = {p->err_fd, POLLIN, 0};
    int r = poll(&pf, 1, ms);
    if (r <= 0)
        return 0;
    if (p->log_len >= sizeof p->log - 1)
        p->log_len = 0; /* tests only look for recent lines */
    ssize_t n = read(p->err_fd, p->log + p->log_len, sizeof p->log - 1 - p->log_len);
    if (n <= 0)
        return -1;
    p->log_len += (size_t)n;
    p->log[p->log_len] = '\0';
    return 0;
}

int gproc_wait_log(gproc *p, const char *needle, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    while (!strstr(p->log, needle)) {
        long long left = end - now_ms();
        if (left <= 0 || pump(p, (int)left) < 0)
            return strstr(p->log, needle) ? 0 : -1;
    }
    return 0;
}

int gproc_start(gproc *p, const char *const *argv, const char *const *env, int timeout_ms)
{
    memset(p, 0, sizeof *p);
    const char *bin = getenv("TOLLGATE_BIN");
    if (!bin)
        bin = "./tollgate";
    int fds[2];
    if (pipe(fds))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* Die with the test, so a failed assertion never leaves a server
         * holding ctest's pipes open. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)*e);
        const char *args[64];
        size_t n = 0;
        args[n++] = bin;
        for (const char *const *a = argv; *a && n < 63; a++)
            args[n++] = *a;
        args[n] = NULL;
        execv(bin, (char *const *)args);
        _exit(127);
    }
    close(fds[1]);
    p->pid = pid;
    p->err_fd = fds[0];
    p->log[0] = '\0';
    if (gproc_wait_log(p, "listening on http://", timeout_ms) < 0)
        return -1;
    const char *l = strstr(p->log, "listening on http://");
    const char *colon = strchr(l + strlen("listening on http://"), ':');
    /* The line may not be complete yet: wait for its end. */
    while (!strchr(l, '\n') && pump(p, 1000) == 0)
        ;
    p->port = colon ? atoi(colon + 1) : 0;
    return p->port > 0 ? 0 : -1;
}

int gproc_wait_exit(gproc *p, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            while (pump(p, 0) == 0 && p->log_len < sizeof p->log - 1) {
                struct pollfd pf = {p->err_fd, POLLIN, 0};
                if (poll(&pf, 1, 0) <= 0)
                    break;
            }
            p->pid = 0;
            close(p->err_fd);
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        if (now_ms() >= end)
            return -1;
        /* Block on the stderr pipe (EOF arrives when the child exits). */
        if (pump(p, 50) < 0) {
            waitpid(p->pid, &st, 0);
            p->pid = 0;
            close(p->err_fd);
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
    }
}

int gproc_stop(gproc *p)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    int st;
    waitpid(p->pid, &st, 0);
    /* Keep what it logged on the way out (sanitizer reports included). */
    while (pump(p, 0) == 0) {
        struct pollfd pf = {p->err_fd, POLLIN, 0};
        if (poll(&pf, 1, 0) <= 0)
            break;
    }
    close(p->err_fd);
    p->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int http_get(int port, const char *path, char **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, got = 0;
    char *b = malloc(cap + 1);
    for (;;) {
        if (got == cap) {
            cap *= 2;
            b = realloc(b, cap + 1);
        }
        ssize_t r = read(fd, b + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    b[got] = '\0';
    int status = 0;
    if (sscanf(b, "HTTP/1.1 %d", &status) != 1) {
        free(b);
        return -1;
    }
    char *sep = strstr(b, "\r\n\r\n");
    size_t off = sep ? (size_t)(sep + 4 - b) : got;
    *len = got - off;
    memmove(b, b + off, *len + 1);
    *body = b;
    return status;
}

const char *fake_nvml_path(void)
{
    static char path[1024];
    const char *b = getenv("TOLLGATE_BUILD");
    snprintf(path, sizeof path, "%s/libfake_nvml.so", b ? b : ".");
    return path;
}
