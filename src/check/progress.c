#include "check/progress.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "util/probe.h"

struct progress {
    FILE *f;
    bool inplace, color;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t ticker;
    bool has_ticker, stop, shown;
    char what[256];   /* "" when no phase runs */
    double timeout_s, started;
};

/* Caller holds mu. */
static void draw(progress *p)
{
    if (!p->what[0])
        return;
    double el = probe_now() - p->started;
    char line[400];
    int n = snprintf(line, sizeof line, "  ... %s (%.0f s", p->what, el);
    if (p->timeout_s > 0 && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, ", up to %.0f s", p->timeout_s);
    if (n > 0 && (size_t)n < sizeof line - 1)
        snprintf(line + n, sizeof line - (size_t)n, ")");
    /* A line wider than the terminal wraps, and "\r\033[K" would erase only
     * its last row: cut it to the width. */
    struct winsize ws;
    size_t cols = ioctl(fileno(p->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 8 ? ws.ws_col : 80;
    if (strlen(line) > cols - 1)
        line[cols - 1] = 0;
    fprintf(p->f, "\r\033[K%s%s%s", p->color ? "\033[2m" : "", line, p->color ? "\033[0m" : "");
    fflush(p->f);
    p->shown = true;
}

/* Caller holds mu. */
static void erase(progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", p->f);
        fflush(p->f);
        p->shown = false;
    }
}

/* Redraws once a second so that a long wait (a cold model load, a scrape)
 * visibly moves. Only on a terminal. */
static void *tick(void *arg)
{
    progress *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        int rc = pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        if (rc == ETIMEDOUT && !p->stop && p->shown)
            draw(p);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

progress *progress_new(FILE *f, bool inplace, bool color)
{
    progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->f = f;
    p->inplace = inplace;
    p->color = color && inplace;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (inplace)
        p->has_ticker = pthread_create(&p->ticker, NULL, tick, p) == 0;
    return p;
}

void progress_free(progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    erase(p);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (p->has_ticker)
        pthread_join(p->ticker, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void progress_phase(progress *p, const char *what, double timeout_s)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    snprintf(p->what, sizeof p->what, "%s", what);
    p->timeout_s = timeout_s;
    p->started = probe_now();
    if (p->inplace) {
        draw(p);
    } else {
        fprintf(p->f, "tollgate check: %s", what);
        if (timeout_s > 0)
            fprintf(p->f, " (up to %.0f s)", timeout_s);
        fputs("...\n", p->f);
        fflush(p->f);
    }
    pthread_mutex_unlock(&p->mu);
}

void progress_done(progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    erase(p);
    p->what[0] = 0;
    pthread_mutex_unlock(&p->mu);
}

void progress_hold(progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    erase(p);
}

void progress_release(progress *p)
{
    if (!p)
        return;
    if (p->inplace)
        draw(p);
    pthread_mutex_unlock(&p->mu);
}
