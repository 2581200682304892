#include "check/mode.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

check_mode mode_decide(const mode_facts *f, const char **why)
{
    const char *w;
    check_mode m;
    if (!f->loopback_gateway) {
        m = MODE_DOCKER, w = "the gateway URL is not on this machine";
    } else if (f->host_serve) {
        m = MODE_HOST, w = "a `tollgate serve` process runs on this machine";
    } else if (f->container_serve) {
        m = MODE_DOCKER, w = "the gateway runs in a container";
    } else if (f->run_dir) {
        m = MODE_HOST, w = "./.run exists (make run)";
    } else {
        /* Nothing runs: the guide's setup is Docker. */
        m = MODE_DOCKER, w = "no gateway process and no ./.run here";
    }
    if (why)
        *why = w;
    return m;
}

bool mode_url_is_loopback(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *at = strpbrk(h, "@/");
    if (at && *at == '@')
        h = at + 1;
    size_t n = strcspn(h, ":/?#");
    if (*h == '[')
        return !strncmp(h, "[::1]", 5);
    if (n == 9 && !strncasecmp(h, "localhost", 9))
        return true;
    return n >= 4 && !strncmp(h, "127.", 4);
}

/* Reads a small /proc file into b (NUL-terminated); returns its length. */
static size_t slurp(const char *path, char *b, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, cap - 1);
    close(fd);
    if (n < 0)
        n = 0;
    b[n] = 0;
    return (size_t)n;
}

/* argv[0]'s base name is tollgate and argv[1] is serve, or it is litellm. */
static bool is_gateway(const char *cmd, size_t n)
{
    if (!n)
        return false;
    const char *base = strrchr(cmd, '/');
    base = base ? base + 1 : cmd;
    if (!strcmp(base, "litellm"))
        return true;
    size_t l0 = strlen(cmd);
    return !strcmp(base, "tollgate") && l0 + 1 < n && !strcmp(cmd + l0 + 1, "serve");
}

void mode_facts_collect(const char *gateway_url, mode_facts *f)
{
    memset(f, 0, sizeof *f);
    struct stat sb;
    f->loopback_gateway = mode_url_is_loopback(gateway_url);
    f->run_dir = stat(".run", &sb) == 0 && S_ISDIR(sb.st_mode);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    char path[64], cmd[512], cg[2048];
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        snprintf(path, sizeof path, "/proc/%.20s/cmdline", e->d_name);
        if (!is_gateway(cmd, slurp(path, cmd, sizeof cmd)))
            continue;
        snprintf(path, sizeof path, "/proc/%.20s/cgroup", e->d_name);
        slurp(path, cg, sizeof cg);
        if (!strcmp(e->d_name, "1") || strstr(cg, "docker") || strstr(cg, "containerd") || strstr(cg, "libpod") || strstr(cg, "kubepods"))
            f->container_serve = true;
        else
            f->host_serve = true;
    }
    closedir(d);
}
