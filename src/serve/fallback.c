#include "serve/fallback.h"

#include <stdlib.h>
#include <string.h>

static int group_index(const gateway *g, const char *name)
{
    for (int i = 0; i < g->ngroups; i++)
        if (!strcmp(g->groups[i].name, name))
            return i;
    return -1;
}

/* Appends the groups named in names to *out (no duplicates, never `self`). */
static int add_names(const gateway *g, int self, char **names, size_t n, int **out, int *nout)
{
    for (size_t i = 0; i < n; i++) {
        int gi = group_index(g, names[i]);
        bool dup = gi == self;
        for (int k = 0; k < *nout && !dup; k++)
            dup = (*out)[k] == gi;
        if (gi < 0 || dup)
            continue;
        int *a = realloc(*out, (size_t)(*nout + 1) * sizeof *a);
        if (!a)
            return -1;
        a[(*nout)++] = gi;
        *out = a;
    }
    return 0;
}

static int resolve_list(gateway *g, const config_fallback *fb, size_t nfb, bool cw)
{
    for (size_t i = 0; i < nfb; i++) {
        if (!strcmp(fb[i].from, "*")) {
            if (!cw && add_names(g, -1, fb[i].to, fb[i].nto, &g->default_fallbacks, &g->ndefault_fallbacks) < 0)
                return -1;
            continue;
        }
        int gi = group_index(g, fb[i].from);
        if (gi < 0)
            continue;
        gw_group *grp = &g->groups[gi];
        if (add_names(g, gi, fb[i].to, fb[i].nto, cw ? &grp->cw_fallbacks : &grp->fallbacks,
                      cw ? &grp->ncw_fallbacks : &grp->nfallbacks) < 0)
            return -1;
    }
    return 0;
}

int fallback_resolve(gateway *g)
{
    const config *c = g->cfg;
    if (resolve_list(g, c->fallbacks, c->nfallbacks, false) < 0 ||
        resolve_list(g, c->context_window_fallbacks, c->ncontext_window_fallbacks, true) < 0 ||
        add_names(g, -1, c->default_fallbacks, c->ndefault_fallbacks, &g->default_fallbacks,
                  &g->ndefault_fallbacks) < 0)
        return -1;
    return 0;
}

void fallback_free(gateway *g)
{
    for (int i = 0; i < g->ngroups; i++) {
        free(g->groups[i].fallbacks);
        free(g->groups[i].cw_fallbacks);
    }
    free(g->default_fallbacks);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

const int *fallback_list(const gateway *g, const gw_group *grp, int status, const char *exc_class, int *n)
{
    if (exc_class && ends_with(exc_class, ".ContextWindowExceededError")) {
        *n = grp->ncw_fallbacks;
        return grp->cw_fallbacks;
    }
    if (status == 400) { /* a malformed request fails everywhere */
        *n = 0;
        return NULL;
    }
    if (grp->nfallbacks) {
        *n = grp->nfallbacks;
        return grp->fallbacks;
    }
    *n = g->ndefault_fallbacks;
    return g->default_fallbacks;
}
