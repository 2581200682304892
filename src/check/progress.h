/* What 'tollgate check' is waiting for, while it waits: on a terminal one
 * line on stderr, rewritten in place every second with the time so far and
 * erased when the phase ends; elsewhere (a pipe, a file, TERM=dumb) one line
 * per phase, "tollgate check: <what> (up to N s)...". The results go to
 * stdout between phases; progress_hold/progress_release keep the two from
 * overwriting each other on a terminal. */
#ifndef TOLLGATE_CHECK_PROGRESS_H
#define TOLLGATE_CHECK_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct progress progress;

/* inplace: rewrite one line (a terminal that understands "\r\033[K"); else
 * one line per phase. color: dim the line. Returns NULL when out of memory. */
progress *progress_new(FILE *f, bool inplace, bool color);
void progress_free(progress *p);
/* Starts a phase; what is copied. timeout_s > 0 is printed as "up to N s". */
void progress_phase(progress *p, const char *what, double timeout_s);
/* Ends the current phase (erases the line on a terminal). */
void progress_done(progress *p);
/* Erases the line and keeps the ticker from drawing until release, which
 * draws it again. For writing results to the same terminal. */
void progress_hold(progress *p);
void progress_release(progress *p);

#endif
