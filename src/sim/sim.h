#ifndef TOLLGATE_SIM_H
#define TOLLGATE_SIM_H
/* Entry point of 'tollgate sim'; argv[0] is "sim". Returns the exit code. */
int sim_main(int argc, char **argv);
#endif
