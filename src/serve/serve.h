#ifndef TOLLGATE_SERVE_H
#define TOLLGATE_SERVE_H
/* Entry point of 'tollgate serve'; argv[0] is "serve". Returns the exit code. */
int serve_main(int argc, char **argv);
#endif
