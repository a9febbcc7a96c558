/*
 * peers.c — see peers.h.
 */
#include "peers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define HAPROXY	"/usr/sbin/haproxy"
#define NGINX	"/usr/sbin/nginx"
#define SOCAT	"/usr/bin/socat"
#define PROMETHEUS "/usr/bin/prometheus"
#define RSYSLOGD "/usr/sbin/rsyslogd"

int
inheritable_listener(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*len = sizeof(*sin);
	cr_assert_eq(bind(fd, (struct sockaddr *)ss, *len), 0);
	cr_assert_eq(listen(fd, 1024), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)ss, len), 0);
	return fd;
}

const char *
edited_copy(const char *path, const char *out, const char *const *pairs)
{
	char *text = malloc(1 << 16), *at;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	cr_assert(fd >= 0 && text != NULL, "%s: %s", path, strerror(errno));
	n = read(fd, text, (1 << 16) - 1);
	close(fd);
	cr_assert_gt(n, 0);
	text[n] = '\0';
	for (; pairs[0] != NULL; pairs += 2) {
		size_t from = strlen(pairs[0]), to = strlen(pairs[1]);

		at = strstr(text, pairs[0]);
		cr_assert_not_null(at, "%s no longer says '%s'", path,
		    pairs[0]);
		memmove(at + to, at + from, strlen(at + from) + 1);
		memcpy(at, pairs[1], to);
	}
	write_file(out, text);
	free(text);
	return out;
}

/* Open dir/name for a peer's stderr. */
static int
peer_log(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	return fd;
}

pid_t
start_haproxy(const char *dir, const char *config)
{
	const char *argv[] = { HAPROXY, "-f", config, "-db", NULL };
	int err;
	pid_t pid;

	cr_assert_eq(access(HAPROXY, X_OK), 0, HAPROXY " is missing: make "
	    "test installs Debian's haproxy");
	err = peer_log(dir, "haproxy.err");
	pid = spawn(argv, -1, err, err);
	close(err);
	return pid;
}

pid_t
start_nginx(const char *dir, const char *stream_conf, int front)
{
	char conf[PATH_MAX], errlog[PATH_MAX], text[3 * PATH_MAX], env[32];
	const char *argv[] = { NGINX, "-e", errlog, "-p", dir, "-c", conf,
	    NULL };
	int err;
	pid_t pid;

	cr_assert_eq(access(NGINX, X_OK), 0, NGINX " is missing: make test "
	    "installs Debian's nginx-light and libnginx-mod-stream");
	snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
	snprintf(errlog, sizeof(errlog), "%s/nginx.err", dir);
	snprintf(text, sizeof(text), "load_module "
	    "/usr/lib/nginx/modules/ngx_stream_module.so;\n"
	    "daemon off;\nworker_processes 1;\nuser root root;\n"
	    "pid %s/nginx.pid;\nerror_log %s notice;\nevents {}\n"
	    "include %s;\n", dir, errlog, stream_conf);
	write_file(conf, text);
	err = peer_log(dir, "nginx.out");
	/* The listening socket, as nginx hands it to its new binary (which
	 * takes a master process: with master_process off it crashes). */
	snprintf(env, sizeof(env), "%d;", front);
	setenv("NGINX", env, 1);
	pid = spawn(argv, -1, err, err);
	unsetenv("NGINX");
	close(err);
	return pid;
}

pid_t
start_socat(const char *target, const char *options,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct daemon log = { 0 };
	char connect[160], words[64] = "", *save;
	const char *argv[8] = { SOCAT, "-d", "-d" }, *line;
	int n = 3, fd;
	pid_t pid;

	cr_assert_eq(access(SOCAT, X_OK), 0, SOCAT " is missing: make test "
	    "installs Debian's socat");
	snprintf(words, sizeof(words), "%s", options != NULL ? options : "");
	for (char *w = strtok_r(words, " ", &save); w != NULL && n < 5;
	    w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n++] = "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr";
	snprintf(connect, sizeof(connect), "TCP:%s", target);
	argv[n++] = connect;
	argv[n] = NULL;
	/* A daemon's log file and its watch serve for socat's log. */
	daemon_init(&log);
	fd = open(log.log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	pid = spawn(argv, -1, fd, fd);
	close(fd);
	line = daemon_wait_log(&log, "listening on AF=2 127.0.0.1:",
	    DEADLINE_MS);
	cr_assert_not_null(line, "socat did not listen:\n%s",
	    daemon_log(&log));
	memset(ss, 0, sizeof(*ss));
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)atoi(
	    strrchr(line, ':') + 1));
	((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*len = sizeof(struct sockaddr_in);
	log.pid = -1;
	daemon_kill(&log);	/* its directory only: socat goes on */
	return pid;
}

void
private_loopback(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s",
	    strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0, "lo up: %s",
	    strerror(errno));
	close(fd);
}

pid_t
start_prometheus(const char *dir, const char *config, const char *web)
{
	struct daemon log = { 0 };
	char cfg[PATH_MAX + 16], tsdb[PATH_MAX + 32], listen[160];
	const char *argv[] = { PROMETHEUS, cfg, tsdb, listen,
	    "--log.level=info", NULL };
	int fd;
	pid_t pid;

	cr_assert_eq(access(PROMETHEUS, X_OK), 0, PROMETHEUS " is missing: "
	    "make test installs Debian's prometheus");
	snprintf(cfg, sizeof(cfg), "--config.file=%s", config);
	snprintf(tsdb, sizeof(tsdb), "--storage.tsdb.path=%s/tsdb", dir);
	snprintf(listen, sizeof(listen), "--web.listen-address=%s", web);
	/* A daemon's log file and its watch serve for Prometheus's log. */
	daemon_init(&log);
	fd = open(log.log_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	pid = spawn(argv, -1, fd, fd);
	close(fd);
	cr_assert_not_null(daemon_wait_log(&log, "Server is ready to receive "
	    "web requests", DEADLINE_MS), "prometheus is not ready:\n%s",
	    daemon_log(&log));
	log.pid = -1;
	daemon_kill(&log);	/* its directory only: Prometheus goes on */
	return pid;
}

pid_t
start_rsyslog(const char *dir, const char *config, const char *socket_path)
{
	char pidfile[PATH_MAX], errlog[PATH_MAX];
	const char *argv[] = { RSYSLOGD, "-n", "-f", config, "-i", pidfile,
	    NULL };
	long long deadline = now_ms() + DEADLINE_MS;
	struct stat st;
	int err;
	pid_t pid;

	cr_assert_eq(access(RSYSLOGD, X_OK), 0, RSYSLOGD " is missing: make "
	    "test installs Debian's rsyslog");
	snprintf(pidfile, sizeof(pidfile), "%s/rsyslogd.pid", dir);
	snprintf(errlog, sizeof(errlog), "%s/rsyslogd.err", dir);
	err = peer_log(dir, "rsyslogd.err");
	pid = spawn(argv, -1, err, err);
	close(err);
	/* rsyslogd binds its sockets before it writes its pidfile. */
	while (stat(socket_path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    access(pidfile, F_OK) != 0) {
		cr_assert(process_alive(pid) && now_ms() < deadline,
		    "rsyslogd did not listen at %s:\n%s", socket_path,
		    read_text(errlog));
		usleep(10 * 1000);
	}
	return pid;
}

void
stop_peer(pid_t pid, const char *name)
{
	kill(pid, SIGTERM);
	cr_assert_neq(wait_exit(pid, NULL, DEADLINE_MS), -1, "%s did not "
	    "stop", name);
}
