/*
 * peers.h — the real programs tests put in front of the daemon: HAProxy,
 * nginx's stream module and socat, from Debian's packages (make test
 * installs them). HAProxy and nginx inherit their listening socket from
 * the test (bind fd@N; nginx's NGINX variable, as in its binary upgrade),
 * so clients can connect at once: the kernel queues them until the peer
 * accepts. socat says which port it got, and the test waits for the line.
 */
#ifndef PEERS_H
#define PEERS_H

#include <sys/socket.h>
#include <sys/types.h>

/* A listening socket on 127.0.0.1 that a child inherits. */
int inheritable_listener(struct sockaddr_storage *ss, socklen_t *len);

/* The file at path with each pairs[2i] replaced by pairs[2i + 1] (every
 * one must be there), written to out. Returns out. */
const char *edited_copy(const char *path, const char *out,
    const char *const *pairs);

/* HAProxy on config, its stderr in dir/haproxy.err. */
pid_t start_haproxy(const char *dir, const char *config);

/* nginx with stream_conf included in a main configuration written to dir,
 * taking front (an inheritable_listener) as its listening socket. */
pid_t start_nginx(const char *dir, const char *stream_conf, int front);

/*
 * socat TCP-LISTEN on 127.0.0.1, forwarding each connection to target
 * (HOST:PORT), with options (such as "-t 30", or NULL). The address it
 * listens on goes into ss.
 */
pid_t start_socat(const char *target, const char *options,
    struct sockaddr_storage *ss, socklen_t *len);

/*
 * Move this test process (and what it starts from now on) into a network
 * namespace of its own with the loopback up: fixed ports, such as
 * Prometheus's web port, then collide with nothing.
 */
void private_loopback(void);

/* Prometheus (/usr/bin/prometheus) on config, its storage under dir/tsdb,
 * its web API on web (HOST:PORT); waits until it is ready for web
 * requests. */
pid_t start_prometheus(const char *dir, const char *config, const char *web);

/* rsyslogd -n on config (which must listen at socket_path), its pidfile
 * and stderr in dir; waits until the socket exists. */
pid_t start_rsyslog(const char *dir, const char *config,
    const char *socket_path);

/* SIGTERM, and wait for the exit. */
void stop_peer(pid_t pid, const char *name);

#endif
