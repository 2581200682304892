/* LiteLLM's command line, so a compose file or script written for the
 * `litellm` proxy runs Tollgate unchanged:
 *   tollgate --config F --port N [--host H] [--num_workers N] [--debug] [--detailed_debug]
 * (no subcommand) runs `serve`. Flags of the `litellm` CLI that have no
 * meaning here are accepted and ignored with a warning naming them. */
#ifndef TOLLGATE_SERVE_LITELLM_CLI_H
#define TOLLGATE_SERVE_LITELLM_CLI_H

#include <stdbool.h>

/* Is arg the first word of a LiteLLM-style command line (an option rather
 * than a subcommand)? --help and --version are main's, not LiteLLM's. */
bool litellm_cli_form(const char *arg);

/* Removes the ignored LiteLLM-only flags (and their values) from argv in
 * place, logging one warning each. Returns the new argc; argv[argc] is
 * NULL. (--num_workers, --debug and --detailed_debug are serve options.) */
int litellm_cli_filter(int argc, char **argv);

#endif
