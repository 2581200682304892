#include "serve/serve.h"

#include <stdio.h>

/* Placeholder until this subcommand lands; it says so instead of pretending. */
int serve_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tollgate serve: not implemented in this build yet\n");
    return 2;
}
