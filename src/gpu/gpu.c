#include "gpu/gpu.h"

#include <stdio.h>

/* Placeholder until this subcommand lands; it says so instead of pretending. */
int gpu_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tollgate gpu: not implemented in this build yet\n");
    return 2;
}
