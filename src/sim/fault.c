#include "sim/fault.h"

#include <string.h>

static const char *const names[SIM_FAULT_COUNT] = {
    "none", "500", "503", "429", "hang", "cut", "malformed", "slow", "error", "context",
};

const char *sim_fault_name(enum sim_fault_kind k) { return k < SIM_FAULT_COUNT ? names[k] : "none"; }

int sim_fault_parse(const char *spec, size_t len, sim_fault *f)
{
    size_t klen = 0;
    while (klen < len && spec[klen] != ':')
        klen++;
    enum sim_fault_kind kind = SIM_FAULT_NONE;
    for (int k = 1; k < SIM_FAULT_COUNT; k++)
        if (strlen(names[k]) == klen && !strncmp(spec, names[k], klen))
            kind = (enum sim_fault_kind)k;
    if (kind == SIM_FAULT_NONE)
        return -1;
    int arg = kind == SIM_FAULT_CUT         ? SIM_FAULT_DEFAULT_CUT
              : kind == SIM_FAULT_MALFORMED ? SIM_FAULT_DEFAULT_MALFORMED
              : kind == SIM_FAULT_ERROR     ? SIM_FAULT_DEFAULT_ERROR
              : kind == SIM_FAULT_SLOW      ? SIM_FAULT_DEFAULT_SLOW_MS
                                            : 0;
    if (klen < len) {
        /* Only the kinds that take an argument accept one. */
        if (kind != SIM_FAULT_CUT && kind != SIM_FAULT_MALFORMED && kind != SIM_FAULT_ERROR && kind != SIM_FAULT_SLOW)
            return -1;
        size_t i = klen + 1;
        if (i == len)
            return -1;
        long v = 0;
        for (; i < len; i++) {
            if (spec[i] < '0' || spec[i] > '9' || v > 100000000)
                return -1;
            v = v * 10 + (spec[i] - '0');
        }
        arg = (int)v;
    }
    f->kind = kind;
    f->arg = arg;
    return 0;
}

static bool spec_byte(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':';
}

bool sim_fault_find(const char *text, size_t len, sim_fault *f)
{
    static const size_t mlen = sizeof SIM_FAULT_MARKER - 1;
    const char *p = text, *end = text + len;
    while ((size_t)(end - p) >= mlen) {
        const char *m = memmem(p, (size_t)(end - p), SIM_FAULT_MARKER, mlen);
        if (!m)
            return false;
        const char *s = m + mlen, *e = s;
        while (e < end && spec_byte(*e))
            e++;
        /* A trailing ':' belongs to the sentence, not the spec. */
        while (e > s && e[-1] == ':')
            e--;
        if (sim_fault_parse(s, (size_t)(e - s), f) == 0)
            return true;
        p = m + mlen;
    }
    return false;
}
