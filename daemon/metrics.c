/*
 * metrics.c — the exposition. Names follow Prometheus's conventions: a
 * upcased_ prefix, base units (bytes, seconds), _total on counters, and
 * one metric with a label where the same thing is counted several ways
 * (closed, by reason). The process_* metrics are those the official client
 * libraries export, read from /proc and getrusage when asked.
 */
#include "metrics.h"

#include <dirent.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef VERSION
#define VERSION "0.0.0"
#endif

static double start_time;		/* seconds since the epoch */

void
metrics_init(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
counter(FILE *out, const char *name, const char *help, uint64_t value)
{
	head(out, name, "counter", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)value);
}

static void
gauge(FILE *out, const char *name, const char *help, double value)
{
	head(out, name, "gauge", help);
	fprintf(out, "%s %.17g\n", name, value);
}

static void
refused(FILE *out, const char *reason, uint64_t value)
{
	fprintf(out, "upcased_connections_refused_total{reason=\"%s\"} "
	    "%llu\n", reason, (unsigned long long)value);
}

/* A label value, escaped as the format asks: \\, \" and \n. */
static void
label_value(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void
write_connections(FILE *out, const struct metrics_server *server)
{
	const struct counters *t = server->counters;
	const struct conn_stats *cs = &t->conn;
	const struct record_stats *rs = &t->record;
	const struct listener_stats *ls = &t->listener;
	uint64_t below = 0;

	head(out, "upcased_connections_accepted_total", "counter",
	    "Connections accepted, by listener.");
	for (const struct listener *l = server->listeners; l != NULL;
	    l = l->next) {
		fputs("upcased_connections_accepted_total{listener=\"", out);
		label_value(out, l->name);
		fprintf(out, "\"} %llu\n", (unsigned long long)(l->accepted ?
		    __atomic_load_n(l->accepted, __ATOMIC_RELAXED) : 0));
	}
	gauge(out, "upcased_connections_open", "Connections open now.",
	    (double)t->open);
	head(out, "upcased_connections_closed_total", "counter",
	    "Connections closed, by how they ended.");
	for (int i = 0; i < END_COUNT; i++)
		if (i != END_REFUSED)	/* with the refusals, below */
			fprintf(out, "upcased_connections_closed_total{reason="
			    "\"%s\"} %llu\n", record_end_names[i],
			    (unsigned long long)rs->ended[i]);
	head(out, "upcased_connections_refused_total", "counter",
	    "Connections closed as soon as their client was known (at "
	    "accept, or once a PROXY header named it), by reason.");
	refused(out, "fd_limit", ls->refused + t->admit.fd_table);
	refused(out, "denied", t->admit.denied);
	refused(out, "max_connections_per_ip", t->admit.per_ip);
	counter(out, "upcased_listener_full_total", "Times a listener stopped "
	    "accepting for lack of room (max_connections, the metrics "
	    "requests' limit): its clients waited in the queue.",
	    t->admit.full);
	counter(out, "upcased_accept_pauses_total", "Times accepting paused "
	    "on a failure only time mends (the kernel short of memory).",
	    ls->paused);
	counter(out, "upcased_half_closes_total", "Clients' FINs seen: "
	    "half-closes by the peer.", cs->half_closes);
	head(out, "upcased_connection_duration_seconds", "histogram",
	    "Connection lifetimes, from accept to close.");
	for (int i = 0; i <= RECORD_BUCKETS; i++) {
		below += rs->lifetimes[i];
		if (i < RECORD_BUCKETS)
			fprintf(out, "upcased_connection_duration_seconds_"
			    "bucket{le=\"%g\"} %llu\n",
			    record_bucket_bounds[i], (unsigned long long)below);
		else
			fprintf(out, "upcased_connection_duration_seconds_"
			    "bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)below);
	}
	fprintf(out, "upcased_connection_duration_seconds_sum %.3f\n"
	    "upcased_connection_duration_seconds_count %llu\n",
	    (double)rs->lifetime_ms / 1000, (unsigned long long)below);
}

static void
write_data(FILE *out, const struct counters *t)
{
	const struct conn_stats *cs = &t->conn;

	counter(out, "upcased_received_bytes_total", "Bytes read from "
	    "clients (PROXY headers not included).", cs->bytes_in);
	counter(out, "upcased_sent_bytes_total", "Bytes written to clients.",
	    cs->bytes_out);
	gauge(out, "upcased_owed_bytes", "Bytes read and not yet written back, "
	    "in every backlog.", (double)cs->owed);
	counter(out, "upcased_read_pauses_total", "Times a client's backlog "
	    "reached backlog_high and reading it stopped.", cs->read_pauses);
}

static void
write_daemon(FILE *out, const struct metrics_server *server)
{
	const struct counters *t = server->counters;
	const struct http_stats *hs = &t->http;

	head(out, "upcased_build_info", "gauge", "The running version.");
	fprintf(out, "upcased_build_info{version=\"%s\"} 1\n", VERSION);
	head(out, "upcased_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result.");
	fprintf(out, "upcased_reloads_total{result=\"ok\"} %llu\n"
	    "upcased_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)t->reloads_ok,
	    (unsigned long long)t->reloads_failed);
	head(out, "upcased_metrics_requests_total", "counter",
	    "Requests on metrics listeners, by answer.");
	fprintf(out, "upcased_metrics_requests_total{code=\"200\"} %llu\n"
	    "upcased_metrics_requests_total{code=\"400\"} %llu\n"
	    "upcased_metrics_requests_total{code=\"404\"} %llu\n"
	    "upcased_metrics_requests_total{code=\"405\"} %llu\n",
	    (unsigned long long)hs->ok, (unsigned long long)hs->bad_request,
	    (unsigned long long)hs->not_found,
	    (unsigned long long)hs->bad_method);
	counter(out, "upcased_metrics_dropped_total", "Connections to metrics "
	    "listeners closed unanswered: too many, too slow, or gone.",
	    hs->dropped);
	counter(out, "upcased_access_log_dropped_lines_total", "Access log "
	    "lines its target could not take at once.", t->access_dropped);
	counter(out, "upcased_log_dropped_lines_total", "Error log lines its "
	    "target could not take at once.", t->log_dropped);
}

/*
 * Open descriptors. Since Linux 6.2 the size of /proc/self/fd is their
 * count, from the table's bitmap: a worker holding 20,000 answers in
 * microseconds, where listing the directory takes it 20 ms, all its
 * clients waiting. Older kernels say 0: then the listing, less the one
 * reading it.
 */
static int
open_fds(void)
{
	struct stat st;
	DIR *dp;
	struct dirent *e;
	int n = -1;

	if (stat("/proc/self/fd", &st) == 0 && st.st_size > 0)
		return (int)st.st_size;
	if ((dp = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(dp)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dp);
	return n;
}

static void
write_process(FILE *out)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	long page = sysconf(_SC_PAGESIZE);

	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &pages, &resident) != 2)
			pages = resident = 0;
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &ru);
	getrlimit(RLIMIT_NOFILE, &rl);
	head(out, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.");
	fprintf(out, "process_cpu_seconds_total %.6f\n",
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	gauge(out, "process_open_fds", "Number of open file descriptors.",
	    open_fds());
	gauge(out, "process_max_fds", "Maximum number of open file "
	    "descriptors.", (double)rl.rlim_cur);
	gauge(out, "process_resident_memory_bytes", "Resident memory size in "
	    "bytes.", (double)resident * (double)page);
	gauge(out, "process_virtual_memory_bytes", "Virtual memory size in "
	    "bytes.", (double)pages * (double)page);
	gauge(out, "process_start_time_seconds", "Start time of the process "
	    "since unix epoch in seconds.", start_time);
}

void
metrics_write(FILE *out, const struct metrics_server *server)
{
	write_daemon(out, server);
	write_connections(out, server);
	write_data(out, server->counters);
	write_process(out);
}
