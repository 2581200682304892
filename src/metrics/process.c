#include "metrics/process.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct {
    double cpu_seconds;
    double start_time;
    unsigned long long vsize, rss_bytes;
    bool ok;
} stat_info;

/* Boot time from /proc/stat "btime", to turn starttime (ticks since boot)
 * into a Unix time. */
static long long boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    char line[256];
    long long bt = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "btime ", 6)) {
            bt = atoll(line + 6);
            break;
        }
    fclose(f);
    return bt;
}

static stat_info read_stat(void)
{
    stat_info si = {0};
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return si;
    char line[1024];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    /* The command name may contain spaces and parentheses: fields start
     * after the last ')'. */
    char *p = strrchr(line, ')');
    if (!p)
        return si;
    p += 2; /* field 3, state */
    unsigned long long v[24] = {0};
    int k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok && k < 24; tok = strtok_r(NULL, " ", &save))
        v[k++] = strtoull(tok, NULL, 10);
    if (k < 22)
        return si;
    /* v[0] is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24. */
    long tck = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    if (tck <= 0 || page <= 0)
        return si;
    si.cpu_seconds = (double)(v[11] + v[12]) / (double)tck;
    long long bt = boot_time();
    si.start_time = bt >= 0 ? (double)bt + (double)v[19] / (double)tck : -1;
    si.vsize = v[20];
    si.rss_bytes = v[21] * (unsigned long long)page;
    si.ok = true;
    return si;
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

static void family(buf *out, const char *name, const char *help, const char *type)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s ", name, help, name, type, name);
}

void process_metrics_write(buf *out)
{
    stat_info si = read_stat();
    if (si.ok) {
        family(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
        buf_prom_double(out, si.cpu_seconds);
        buf_putc(out, '\n');
    }
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) {
        family(out, "process_max_fds", "Maximum number of open file descriptors.", "gauge");
        if (rl.rlim_cur == RLIM_INFINITY)
            buf_puts(out, "+Inf\n");
        else
            buf_printf(out, "%llu\n", (unsigned long long)rl.rlim_cur);
    }
    long fds = open_fds();
    if (fds >= 0) {
        family(out, "process_open_fds", "Number of open file descriptors.", "gauge");
        buf_printf(out, "%ld\n", fds);
    }
    if (si.ok) {
        family(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
        buf_printf(out, "%llu\n", si.rss_bytes);
        if (si.start_time >= 0) {
            family(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                   "gauge");
            buf_prom_double(out, si.start_time);
            buf_putc(out, '\n');
        }
        family(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
        buf_printf(out, "%llu\n", si.vsize);
    }
}
