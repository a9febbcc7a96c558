/*
 * probe.h — the behaviours a connection on a probe listener asks for with
 * its scenario line (scenario.h): hold the echo until after the client's
 * EOF, half-close after so many bytes, end with a reset, pace the echo.
 * conn.c asks, at each step of the data path, what such a connection may
 * do. The state lives in a table of its own, indexed by fd, so that other
 * connections pay nothing; when a behaviour has to wait (a delay, the next
 * slot of a rate, the peer's last acknowledgement), a timer posts the fd to
 * the loop, and conn.c runs it again.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "conn.h"
#include "record.h"
#include "scenario.h"

struct loop;

/* For fds below loop_setsize(loop). Returns 0, or -1 with errno. */
int probe_init(struct loop *loop);
void probe_fini(void);

/* fd was accepted on a probe listener (proxied: one that reads PROXY
 * headers first). */
void probe_accept(int fd, bool proxied);

/* fd's scenario begins (its line was read; client: who the daemon knows
 * it as), unless a delay it asks for does not fit under drain_timeout (0:
 * none), which would end it first: -1 with why. With run=, what fd sees
 * from now on is kept in probe_log.h's record. */
int probe_start(int fd, const struct scenario *s,
    const struct addr_packed *client, uint64_t drain_timeout, char *why,
    size_t whylen);

/* Of n bytes just read (buf, as they came), how many go into the echo;
 * the rest is dropped (fin_after reached). */
size_t probe_take(int fd, const void *buf, size_t n);

/* Of n bytes of echo, how many may be written now; 0: not yet, and fd will
 * be posted when more may. */
size_t probe_allow(int fd, size_t n);

/* k bytes of echo were written. */
void probe_wrote(int fd, size_t k);

/* Bytes of echo written so far. */
uint64_t probe_sent(int fd);

/* The client's EOF was read: a held echo's delay begins. */
void probe_eof(int fd);

/* Nothing is owed: true (once) when fd is to half-close now, its
 * fin_after echoed. */
bool probe_fin_due(int fd);

/* The echo is done and the client has half-closed: may fd close now?
 * With close=rst, not before the peer acknowledged every byte (a reset
 * discards what it has not); fd is posted to ask again. When that cannot
 * be known, the close is a FIN, not a reset. */
bool probe_may_close(int fd);

/* fd closes, as end says (END_DONE: as the protocol ends it, and
 * close=rst resets it then). */
void probe_end(int fd, enum conn_end end);

/* Did fd ask for a report (report=KEY)? Then probe_report writes it into
 * buf (PROBE_LOG_REPORT_MAX bytes), with the limits of config, and
 * returns its length: fd's echo is that, and nothing else. */
bool probe_reporting(int fd);
size_t probe_report(int fd, const struct conn_config *config, char *buf);

#endif
