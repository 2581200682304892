/* tollgate top: flags, fetching /metrics, and the terminal (plain ANSI
 * escapes and termios: no curses, see docs/architecture.md). */
#include "top/top.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "top/render.h"
#include "top/snap.h"
#include "util/probe.h"

typedef struct {
    const char *gateway, *gpu, *api_key;
    double interval;
    int once;
} top_opts;

static volatile sig_atomic_t quit_flag, winch_flag;

static void on_quit(int sig)
{
    (void)sig;
    quit_flag = 1;
}

static void on_winch(int sig)
{
    (void)sig;
    winch_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: tollgate top [options]\n\n"
               "A live view of the gateway's and the GPU exporter's /metrics, like htop: per model requests/s,\n"
               "tokens/s in and out, TTFT and latency p50/p99, errors and requests in flight; the models Ollama\n"
               "has loaded, with VRAM and expiry; per GPU utilisation, memory, temperature and power.\n"
               "Press q to quit. Details: docs/top.md.\n\n"
               "Options:\n"
               "  --gateway URL      tollgate serve / LiteLLM (default http://localhost:4000)\n"
               "  --gpu URL          tollgate gpu / dcgm-exporter (default http://localhost:9400)\n"
               "  --interval S       seconds between refreshes, rates and quantiles are over it (default 1)\n"
               "  --once             read twice, one interval apart, print one frame and exit (no terminal needed)\n"
               "  --api-key KEY      gateway key, when /metrics requires one (default: $TOLLGATE_API_KEY)\n"
               "  -h, --help         this help\n");
}

/* GET base + "/metrics" into *body (caller frees); 0 or -1 with err set. */
static int fetch(const top_opts *o, const char *base, buf *body, char *err, size_t errlen)
{
    char url[1024];
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    snprintf(url, sizeof url, "%.*s/metrics", (int)n, base);
    probe_opts po = {.timeout_ms = 2000, .api_key = o->api_key};
    probe_resp r;
    probe_err e = probe_request(&po, url, NULL, &r);
    int rc = 0;
    if (e != PROBE_OK || r.status != 200) {
        if (e == PROBE_OK)
            snprintf(err, errlen, "HTTP %ld from %.60s", r.status, url);
        else
            snprintf(err, errlen, "%s (%.100s)", probe_err_name(e), r.errmsg);
        rc = -1;
    } else {
        buf_append(body, r.body.data ? r.body.data : "", r.body.len);
    }
    probe_resp_free(&r);
    return rc;
}

static void read_snap(const top_opts *o, top_snap *s)
{
    buf g, u;
    buf_init(&g);
    buf_init(&u);
    s->t = probe_now();
    s->gateway_ok = fetch(o, o->gateway, &g, s->gateway_err, sizeof s->gateway_err) == 0;
    s->gpu_ok = fetch(o, o->gpu, &u, s->gpu_err, sizeof s->gpu_err) == 0;
    top_snap_parse(s, s->gateway_ok ? g.data : NULL, g.len, s->gpu_ok ? u.data : NULL, u.len);
    buf_free(&g);
    buf_free(&u);
}

static void write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Draws text from the top-left corner, each line cut to the terminal's
 * width and the frame to its height; clears what is left of the screen. */
static void draw(const buf *frame)
{
    struct winsize ws = {0};
    int rows = 24, cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
        rows = ws.ws_row;
        cols = ws.ws_col;
    }
    buf out;
    buf_init(&out);
    buf_puts(&out, "\033[H");
    const char *p = frame->data ? frame->data : "", *end = p + frame->len;
    for (int row = 0; row < rows && p < end; row++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        buf_append(&out, p, len < (size_t)cols ? len : (size_t)cols);
        buf_puts(&out, "\033[K");
        if (row + 1 < rows)
            buf_puts(&out, "\r\n");
        p = nl ? nl + 1 : end;
    }
    buf_puts(&out, "\033[J");
    write_all(out.data, out.len);
    buf_free(&out);
}

static int run_live(const top_opts *o, top_snap *cur, top_snap *prev)
{
    struct termios saved, raw;
    if (tcgetattr(STDIN_FILENO, &saved) != 0) {
        fprintf(stderr, "tollgate top: stdin is not a terminal\n");
        return 1;
    }
    raw = saved;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* keys one at a time; ISIG kept: Ctrl-C quits */
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    write_all("\033[?1049h\033[?25l", 14); /* alternate screen, hide the cursor */

    top_view v = {o->gateway, o->gpu, o->interval, 1};
    buf frame;
    buf_init(&frame);
    int have_prev = 0;
    while (!quit_flag) {
        read_snap(o, cur);
        buf_reset(&frame);
        top_render(&frame, &v, cur, have_prev ? prev : NULL);
        draw(&frame);
        top_snap *t = prev;
        prev = cur;
        cur = t;
        have_prev = 1;
        double next = prev->t + o->interval;
        while (!quit_flag) {
            double left = next - probe_now();
            if (left <= 0)
                break;
            struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
            int r = poll(&pfd, 1, (int)ceil(left * 1000));
            if (winch_flag) {
                winch_flag = 0;
                draw(&frame);
            }
            if (r > 0) {
                char c[64];
                ssize_t n = read(STDIN_FILENO, c, sizeof c);
                if (n == 0)
                    quit_flag = 1; /* the terminal went away */
                for (ssize_t i = 0; i < n; i++)
                    if (c[i] == 'q' || c[i] == 'Q')
                        quit_flag = 1;
            }
        }
    }
    buf_free(&frame);
    write_all("\033[?25h\033[?1049l", 14);
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return 0;
}

static int run_once(const top_opts *o, top_snap *cur, top_snap *prev)
{
    read_snap(o, prev);
    struct timespec ts = {(time_t)o->interval, (long)((o->interval - floor(o->interval)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !quit_flag) {
    }
    read_snap(o, cur);
    top_view v = {o->gateway, o->gpu, o->interval, 0};
    buf frame;
    buf_init(&frame);
    top_render(&frame, &v, cur, prev->gateway_ok ? prev : NULL);
    fwrite(frame.data ? frame.data : "", 1, frame.len, stdout);
    buf_free(&frame);
    return cur->gateway_ok ? 0 : 1;
}

int top_main(int argc, char **argv)
{
    top_opts o = {"http://localhost:4000", "http://localhost:9400", getenv("TOLLGATE_API_KEY"), 1.0, 0};
    enum { O_GW = 1, O_GPU, O_INT, O_ONCE, O_KEY };
    static const struct option lo[] = {
        {"gateway", required_argument, NULL, O_GW}, {"gpu", required_argument, NULL, O_GPU},
        {"interval", required_argument, NULL, O_INT}, {"once", no_argument, NULL, O_ONCE},
        {"api-key", required_argument, NULL, O_KEY}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        char *end;
        switch (c) {
        case O_GW: o.gateway = optarg; break;
        case O_GPU: o.gpu = optarg; break;
        case O_ONCE: o.once = 1; break;
        case O_KEY: o.api_key = optarg; break;
        case O_INT:
            o.interval = strtod(optarg, &end);
            if (*end || !(o.interval >= 0.1 && o.interval <= 3600)) {
                fprintf(stderr, "tollgate top: --interval expects seconds between 0.1 and 3600, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tollgate top: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o.once && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "tollgate top: needs a terminal; use --once for one frame on a pipe\n");
        return 2;
    }
    if (probe_global_init() != 0) {
        fprintf(stderr, "tollgate top: cannot initialise libcurl\n");
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_quit;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_winch;
    sigaction(SIGWINCH, &sa, NULL);
    top_snap *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    int rc = 1;
    if (a && b)
        rc = o.once ? run_once(&o, a, b) : run_live(&o, a, b);
    free(a);
    free(b);
    probe_global_cleanup();
    return rc;
}
