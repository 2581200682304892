/* tollgate top: one frame as text lines (internal to src/top). */
#ifndef TOLLGATE_TOP_RENDER_H
#define TOLLGATE_TOP_RENDER_H

#include "top/snap.h"
#include "util/buf.h"

typedef struct {
    const char *gateway_url, *gpu_url; /* base URLs, for the title */
    double interval;                   /* seconds */
    int interactive;                   /* show the "q: quit" hint */
} top_view;

/* Appends the frame to out, '\n' after each line, no escape sequences
 * (the caller clips lines to the terminal). prev is the reading one
 * interval earlier, or NULL: rates are then "-". */
void top_render(buf *out, const top_view *v, const top_snap *cur, const top_snap *prev);

#endif
