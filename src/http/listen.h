/* listen.h - the listening socket: parse HOST:PORT, bind, listen.
 * IPv6 hosts are written in brackets ([::1]:8080). Port 0 asks the kernel for
 * a free port; *port_out reports the one bound. Called once at start-up. */
#ifndef JOBSD_HTTP_LISTEN_H
#define JOBSD_HTTP_LISTEN_H

#include <stddef.h>

/* Returns the listening fd, or -1 with a message in err. */
int http_listen(const char *host_port, int *port_out, char *err, size_t errlen);

/* Splits HOST:PORT; host gets the host without brackets. 0, or -1. */
int http_split_host_port(const char *host_port, char *host, size_t hostlen, char *port,
			 size_t portlen);

#endif
