/* Model name to group: see match.h. */
#include "serve/match.h"

#include <stdio.h>
#include <string.h>

/* The gateway's copy of name when a wildcard group's backend lists it, else
 * the pattern (labels stay bounded). */
static const char *listed_label(const gateway *g, const gw_group *grp, const char *name)
{
    size_t lo = 0, hi = g->nlisted;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(g->listed[mid], name);
        if (c == 0)
            return g->listed[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return grp->name;
}

int match_wildcard(const gateway *g, const char *name, size_t n, gw_match *m)
{
    m->group = -1;
    m->label = NULL;
    m->capture[0] = '\0';
    if (n >= sizeof m->capture) /* longer than any name a backend lists */
        return -1;
    char z[sizeof m->capture];
    memcpy(z, name, n);
    z[n] = '\0';
    if (strlen(z) != n) /* an embedded NUL */
        return -1;
    for (int k = 0; k < g->nwild; k++) {
        const gw_group *grp = &g->groups[g->wild[k]];
        size_t sl = strlen(grp->suffix);
        if (n >= grp->prefix_len + sl && !strncmp(z, grp->name, grp->prefix_len) && !strcmp(z + n - sl, grp->suffix)) {
            m->group = g->wild[k];
            if (strcmp(z, grp->name) == 0) {
                m->label = grp->name;
            } else {
                snprintf(m->capture, sizeof m->capture, "%.*s", (int)(n - grp->prefix_len - sl), z + grp->prefix_len);
                m->label = listed_label(g, grp, z);
            }
            return m->group;
        }
    }
    return -1;
}

int match_group(const gateway *g, const char *name, size_t n, gw_match *m)
{
    for (int i = 0; i < g->ngroups; i++)
        if (strlen(g->groups[i].name) == n && memcmp(g->groups[i].name, name, n) == 0) {
            m->group = i;
            m->label = g->groups[i].name;
            m->capture[0] = '\0';
            return i;
        }
    return match_wildcard(g, name, n, m);
}

const char *match_upstream_model(const gw_group *grp, const config_deployment *cd, const char *capture, char *out,
                                 size_t outlen)
{
    const char *um = cd->upstream_model, *star = grp->wildcard ? strchr(um, '*') : NULL;
    if (!star)
        return um;
    snprintf(out, outlen, "%.*s%s%s", (int)(star - um), um, capture, star + 1);
    return out;
}
