/* Deterministic pieces of the Ollama simulator: token counting, generated
 * text, embedding vectors, and the byte-level formatting Ollama's Go server
 * uses (JSON string escaping, float printing, RFC 3339 times, durations).
 * Pure functions, no I/O, safe from any thread.
 *
 * Token counting rule (documented in docs/sim.md, used for every count the
 * simulator reports):
 *   count(text) = for each maximal run of "word bytes" (ASCII letters,
 *                 digits, and every byte >= 0x80): ceil(run_length / 4);
 *                 plus 1 for every other byte that is not whitespace.
 *   chat prompt  = 1 (BOS) + sum over messages of (4 + count(content)) + 3
 *                  (the assistant header the template opens).
 *   generate     = the chat rule over [system (if given), user: prompt];
 *                  raw mode: 1 + count(prompt).
 *   embedding    = count(input) + 2 per input (BOS and EOS). */
#ifndef TOLLGATE_SIM_GEN_H
#define TOLLGATE_SIM_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define SIM_CHAT_BOS 1
#define SIM_CHAT_PER_MESSAGE 4
#define SIM_CHAT_ASSISTANT 3
#define SIM_EMBED_EXTRA 2
/* Inputs one embedding request may carry (the answer is rendered in one go). */
#define SIM_MAX_EMBED_INPUTS 4096

/* Tokens in text by the rule above. */
int sim_count_tokens(const char *text, size_t len);

/* 64-bit FNV-1a; seed chains calls (start with SIM_HASH_INIT). */
#define SIM_HASH_INIT 1469598103934665603ULL
uint64_t sim_hash(uint64_t seed, const void *data, size_t len);

/* Appends visible token number i (0-based) of the completion seeded by seed:
 * a word from a fixed list, capitalised for i == 0, with a leading space for
 * i > 0. The same (seed, i) always gives the same text. */
void sim_token_text(buf *out, uint64_t seed, int i);

/* A deterministic token id (0..128255) for the generate "context" array. */
int sim_token_id(uint64_t seed, int i);

/* Fills v[0..dim) with a deterministic vector for input seed; when
 * normalize, the vector has L2 norm 1 (Ollama /api/embed, /v1/embeddings). */
void sim_embed_vector(float *v, int dim, uint64_t seed, bool normalize);

/* Appends s as a JSON string the way Go's encoding/json writes it: <, > and
 * & as \u003c \u003e \u0026, U+2028/U+2029 escaped, \b \f \n \r \t short
 * escapes, other control bytes as \u00XX, invalid UTF-8 as \ufffd. */
void sim_json_str(buf *out, const char *s, size_t len);

/* Go encoding/json float formatting: the shortest decimal that round-trips
 * at the given width (32 or 64 bits), 'f' style for 1e-6 <= |v| < 1e21 and
 * 'e' style with a trimmed exponent ("1e-7") outside. */
void sim_json_float(buf *out, double v, int bits);

/* Parses a Go duration ("5m", "1h30m", "-1m", "0", "1.5s", "300ms") or, when
 * allow_seconds, a bare number of seconds ("3600", "-1"). Stores
 * nanoseconds in *ns; a negative result means "forever". Returns 0, or -1
 * on a malformed string. Values overflowing int64 saturate. */
int sim_parse_duration(const char *s, bool allow_seconds, int64_t *ns);

/* Writes the time sec.nsec (Unix epoch; sec may lie centuries ahead, as
 * Ollama's "forever" expiry does) as RFC 3339 with nanoseconds, trailing zeros of the fraction
 * trimmed (Go's RFC3339Nano). utc: "...Z"; otherwise local time with its
 * offset ("-07:00", or "Z" when the zone is UTC). Returns the length. */
size_t sim_fmt_time(char *out, size_t cap, int64_t sec, long nsec, bool utc);

/* Standard base64 of data (for encoding_format=base64). */
void sim_base64(buf *out, const void *data, size_t len);

#endif
