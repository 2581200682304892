/* The command line of 'tollgate check': options, how the stack runs (host or
 * Docker), where progress and colour go, and the results as they come. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "check/mode.h"
#include "check/progress.h"
#include "util/probe.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: tollgate check [options]\n"
            "Validates the pipeline end to end: Ollama, the gateway (one plain and one\n"
            "streaming chat completion through it), the GPU exporter and Prometheus\n"
            "(targets and the guide's PromQL queries). Every failure comes with its\n"
            "likely cause and fix, each cause said once; checks that depend on a failed\n"
            "one are skipped. Exit code 0 when all passed (warnings allowed), 1 when a\n"
            "check failed, 2 on bad usage.\n\n"
            "  --ollama URL       Ollama (default http://localhost:11434)\n"
            "  --gateway URL      tollgate serve / LiteLLM (default http://localhost:4000)\n"
            "  --gpu URL          tollgate gpu / dcgm-exporter (default http://localhost:9400)\n"
            "  --prometheus URL   Prometheus (default http://localhost:9090)\n"
            "  --model NAME       model for the chat requests (default: first in /v1/models)\n"
            "  --api-key KEY      gateway key (default: $TOLLGATE_API_KEY)\n"
            "  --timeout SEC      per probe (default 5)\n"
            "  --chat-timeout SEC per chat completion (default 60; a cold model load is slow)\n"
            "  --deadline SEC     whole run (default 90)\n"
            "  --skip-gpu         no GPU exporter here (macOS, CPU-only hosts)\n"
            "  --mode MODE        hints for a stack run by host (make run, systemd) or\n"
            "                     docker (docker compose); auto (default) looks at this machine\n"
            "  --color WHEN       auto (default: on a terminal, unless NO_COLOR or TERM=dumb),\n"
            "                     always or never\n"
            "  --json             one JSON object on stdout instead of lines\n"
            "  --ascii            OK/FAIL/WARN/SKIP instead of the check marks\n"
            "  -h, --help         this text\n");
}

static int parse_secs(const char *s, double *out)
{
    char *ep;
    double v = strtod(s, &ep);
    if (*ep || !(v > 0) || v > 86400)
        return -1;
    *out = v;
    return 0;
}

/* A terminal that understands colours and "\r\033[K". */
static bool fancy_tty(int fd)
{
    const char *term = getenv("TERM");
    return isatty(fd) && !(term && !strcmp(term, "dumb"));
}

typedef struct {
    progress *prog;
    report_style style;
    bool text; /* stream the lines (not --json) */
} cli;

static void on_item(void *ctx, const check_report *r, size_t i)
{
    cli *c = ctx;
    if (!c->text)
        return;
    buf b;
    buf_init(&b);
    report_text_item(r, i, &b, &c->style);
    progress_hold(c->prog);
    fwrite(b.data, 1, b.len, stdout);
    fflush(stdout);
    progress_release(c->prog);
    buf_free(&b);
}

static void on_phase(void *ctx, const char *what, double timeout_s)
{
    cli *c = ctx;
    if (what)
        progress_phase(c->prog, what, timeout_s);
    else
        progress_done(c->prog);
}

int check_main(int argc, char **argv)
{
    enum { O_OLLAMA = 256, O_GATEWAY, O_GPU, O_PROM, O_MODEL, O_KEY, O_TIMEOUT, O_CHAT, O_DEADLINE, O_SKIPGPU,
           O_JSON, O_ASCII, O_MODE, O_COLOR };
    static const struct option lo[] = {
        {"ollama", required_argument, NULL, O_OLLAMA},     {"gateway", required_argument, NULL, O_GATEWAY},
        {"gpu", required_argument, NULL, O_GPU},           {"prometheus", required_argument, NULL, O_PROM},
        {"model", required_argument, NULL, O_MODEL},       {"api-key", required_argument, NULL, O_KEY},
        {"timeout", required_argument, NULL, O_TIMEOUT},   {"chat-timeout", required_argument, NULL, O_CHAT},
        {"deadline", required_argument, NULL, O_DEADLINE}, {"skip-gpu", no_argument, NULL, O_SKIPGPU},
        {"json", no_argument, NULL, O_JSON},               {"ascii", no_argument, NULL, O_ASCII},
        {"mode", required_argument, NULL, O_MODE},         {"color", required_argument, NULL, O_COLOR},
        {"colour", required_argument, NULL, O_COLOR},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    check_opts o;
    check_opts_default(&o);
    o.api_key = getenv("TOLLGATE_API_KEY");
    bool json = false, ascii = false;
    const char *mode = "auto", *color = "auto";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        double *secs = NULL;
        switch (c) {
        case O_OLLAMA: o.ollama = optarg; break;
        case O_GATEWAY: o.gateway = optarg; break;
        case O_GPU: o.gpu = optarg; break;
        case O_PROM: o.prometheus = optarg; break;
        case O_MODEL: o.model = optarg; break;
        case O_KEY: o.api_key = optarg; break;
        case O_TIMEOUT: secs = &o.timeout_s; break;
        case O_CHAT: secs = &o.chat_timeout_s; break;
        case O_DEADLINE: secs = &o.deadline_s; break;
        case O_SKIPGPU: o.skip_gpu = true; break;
        case O_JSON: json = true; break;
        case O_ASCII: ascii = true; break;
        case O_MODE: mode = optarg; break;
        case O_COLOR: color = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "tollgate check: unknown or incomplete option '%s'\n\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        if (secs && parse_secs(optarg, secs) != 0) {
            fprintf(stderr, "tollgate check: '%s' is not a number of seconds (0 < SEC <= 86400)\n", optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tollgate check: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (strcmp(mode, "auto") && strcmp(mode, "host") && strcmp(mode, "docker")) {
        fprintf(stderr, "tollgate check: --mode must be auto, host or docker, not '%s'\n", mode);
        return 2;
    }
    if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never")) {
        fprintf(stderr, "tollgate check: --color must be auto, always or never, not '%s'\n", color);
        return 2;
    }
    const char *why = "--mode";
    if (!strcmp(mode, "auto")) {
        mode_facts f;
        mode_facts_collect(o.gateway, &f);
        o.mode = mode_decide(&f, &why);
    } else {
        o.mode = !strcmp(mode, "host") ? MODE_HOST : MODE_DOCKER;
    }
    const char *nc = getenv("NO_COLOR");
    bool use_color = !strcmp(color, "always") ||
                     (!strcmp(color, "auto") && !(nc && *nc) && fancy_tty(STDOUT_FILENO));
    if (probe_global_init() != 0) {
        fprintf(stderr, "tollgate check: libcurl failed to initialise\n");
        return 1;
    }
    /* Progress goes to stderr: in place on a terminal, a line per phase
     * elsewhere; with --json only on a terminal, so stdout and a piped
     * stderr stay machine-readable. */
    bool inplace = fancy_tty(STDERR_FILENO);
    cli ui = {.style = {.utf8 = !ascii, .color = use_color}, .text = !json};
    if (!json || inplace)
        ui.prog = progress_new(stderr, inplace, use_color);
    if (!json) {
        printf("tollgate check: Ollama %s, gateway %s, GPU exporter %s, Prometheus %s\n", o.ollama, o.gateway,
               o.skip_gpu ? "(skipped)" : o.gpu, o.prometheus);
        printf("hints for %s mode (%s; --mode %s to change)\n\n",
               o.mode == MODE_HOST ? "host (make run, systemd)" : "Docker (docker compose)", why,
               o.mode == MODE_HOST ? "docker" : "host");
        fflush(stdout);
    }
    check_events ev = {.item = on_item, .phase = on_phase, .ctx = &ui};
    check_report r;
    report_init(&r);
    int rc = check_run(&o, &ev, &r);
    progress_free(ui.prog);
    buf out;
    buf_init(&out);
    if (json)
        report_json(&r, &out);
    else
        report_text_summary(&r, &out, &ui.style);
    if (rc != 0 || out.oom) {
        fprintf(stderr, "tollgate check: out of memory\n");
        rc = 1;
    } else {
        fwrite(out.data, 1, out.len, stdout);
        rc = report_exit_code(&r);
    }
    buf_free(&out);
    report_free(&r);
    probe_global_cleanup();
    return rc;
}
