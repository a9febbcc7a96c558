/*
 * bench.h — what the benchmark driver (bench.c) gives its rows (bench.c's
 * A/B rows, rows.c's others): servers started pinned, loads run through
 * bin/upcase bench and read back as JSON, medians, and the table.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <sys/types.h>

#define MAX_ROUNDS 15

struct server {
	const char *name;
	pid_t pid;
	char addr[64];			/* the first listener */
	char addr2[64];			/* the second, for server_start2 */
};

struct load {
	double seconds, mb_per_s, rounds_per_s, p50, p99, max;
	long errors;
};

/* A load running: upcase bench's pid and the read end of its stdout. */
struct pending {
	const struct server *s;
	pid_t pid;
	int fd;
};

struct row {
	const char *name, *metric, *baseline, *target;
	double ours, theirs, ratio;
	char note[96];
};

extern int rounds;

/* The daemon under test ($BENCH_UPCASED, or bin/upcased) and how the rows
 * start it; the baselines. */
extern const char *const upcased_argv[], *const epoll_argv[];

double now_s(void);
/* In a child: run on that cpu (when there are two or more). */
void pin(int cpu);
void die(const char *what) __attribute__((noreturn));

/* Start a server on cpu 1 and read its "listening on ADDR" line (both,
 * for a server with two listeners: server_start2). */
void server_start(struct server *s, const char *const *argv);
void server_start2(struct server *s, const char *const *argv);
void server_stop(struct server *s);

/* bin/upcase bench -a ADDR ARGS... --json on cpu 0; background: as
 * SCHED_IDLE. */
struct pending load_start(const struct server *s, const char *const *args,
    bool background);
struct load load_finish(struct pending *l);
struct load run_load(const struct server *s, const char *const *args);
struct load run_background(const struct server *s, const char *const *args);

double median(double *v, int n);
void print_rounds(const char *label, const double *v, int n);

/* A new row of the table at the end. */
struct row *row_add(void);

/* The rows of rows.c. */
void mixed(void);
void idle(int n);
void scale(void);
void transform(void);
void paced(int n);
/* The stall rows: at backlog_total = 64m, and out of reach (4g). */
void stall(bool at_64m, bool at_4g);

#endif
