/* A non-blocking listening TCP socket with SO_REUSEADDR and SO_REUSEPORT:
 * each worker thread binds its own, and the kernel spreads connections
 * across them (and across a successor server during a reload). */
#ifndef TOLLGATE_NET_LISTEN_H
#define TOLLGATE_NET_LISTEN_H

#include <stddef.h>

/* Returns the socket, or -1 with a message in err (address in use, bad
 * host...). */
int net_listen(const char *host, int port, char *err, size_t errlen);

#endif
