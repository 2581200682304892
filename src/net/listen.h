/* A non-blocking listening TCP socket with SO_REUSEADDR and SO_REUSEPORT:
 * each worker thread binds its own, and the kernel spreads connections
 * across them (and across a successor server during a reload). */
#ifndef TOLLGATE_NET_LISTEN_H
#define TOLLGATE_NET_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

/* Returns the socket, or -1 with a message in err (address in use, bad
 * host...). exclusive: first make sure no socket holds host:port yet, by
 * binding a probe without SO_REUSEPORT, so that a second instance fails
 * with "Address already in use" instead of silently sharing the port. */
int net_listen(const char *host, int port, bool exclusive, char *err, size_t errlen);

#endif
