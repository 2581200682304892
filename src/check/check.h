#ifndef TOLLGATE_CHECK_H
#define TOLLGATE_CHECK_H
/* Entry point of 'tollgate check'; argv[0] is "check". Returns the exit code. */
int check_main(int argc, char **argv);
#endif
