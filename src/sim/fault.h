/* Fault injection for the simulator, chosen per request so a test can aim
 * it: a marker "tollgate-fault:KIND[:ARG]" anywhere in the prompt (or the
 * last message, or an embedding input), or a field: options.tollgate_fault
 * on native endpoints, top-level tollgate_fault on /v1. The field wins over
 * the marker. Wire behaviour of each kind is documented in docs/sim.md. */
#ifndef TOLLGATE_SIM_FAULT_H
#define TOLLGATE_SIM_FAULT_H

#include <stdbool.h>
#include <stddef.h>

enum sim_fault_kind {
    SIM_FAULT_NONE = 0,
    SIM_FAULT_500,       /* HTTP 500 before the first byte */
    SIM_FAULT_503,       /* HTTP 503 "server busy" before the first byte */
    SIM_FAULT_429,       /* HTTP 429 before the first byte */
    SIM_FAULT_HANG,      /* no byte ever; waits until the client goes away */
    SIM_FAULT_CUT,       /* connection cut after arg tokens */
    SIM_FAULT_MALFORMED, /* a malformed chunk after arg tokens, then normal */
    SIM_FAULT_SLOW,      /* arg ms per token instead of --token-ms */
    SIM_FAULT_ERROR,     /* Ollama's mid-stream error after arg tokens */
    SIM_FAULT_CONTEXT,   /* HTTP 400: the input exceeds the context length */
    SIM_FAULT_COUNT
};

typedef struct {
    enum sim_fault_kind kind;
    int arg; /* tokens (cut, malformed, error) or ms (slow); defaults below */
} sim_fault;

#define SIM_FAULT_MARKER "tollgate-fault:"
#define SIM_FAULT_DEFAULT_CUT 3
#define SIM_FAULT_DEFAULT_MALFORMED 2
#define SIM_FAULT_DEFAULT_ERROR 2
#define SIM_FAULT_DEFAULT_SLOW_MS 200

/* Parses "KIND" or "KIND:ARG" (spec[0..len)). Returns 0, or -1 when the
 * kind is unknown or the argument is not a non-negative integer. */
int sim_fault_parse(const char *spec, size_t len, sim_fault *f);
/* Finds the first marker in text and parses what follows it (up to a byte
 * that is not [A-Za-z0-9:]). Returns true when a valid fault was found. */
bool sim_fault_find(const char *text, size_t len, sim_fault *f);
/* "500", "503", "429", "hang", "cut", "malformed", "slow", "error". */
const char *sim_fault_name(enum sim_fault_kind k);

#endif
