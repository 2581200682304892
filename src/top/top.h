/* tollgate top: a live terminal view of the gateway's and the GPU
 * exporter's /metrics (docs/top.md). */
#ifndef TOLLGATE_TOP_H
#define TOLLGATE_TOP_H
/* Entry point of 'tollgate top'; argv[0] is "top". Returns the exit code. */
int top_main(int argc, char **argv);
#endif
