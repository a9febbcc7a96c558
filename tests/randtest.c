/*
 * randtest.c — the randomized socket tester. Many clients at once, each a
 * run of sessions drawn from a seed: send k bytes (none to MiBs) at random
 * split points, stop reading or sending for a while, half-close, read to
 * EOF; or reset (SO_LINGER 0) at a random moment: before sending, while
 * sending, after the half-close, or while the echo comes back. Then the
 * next session, on a new connection.
 *
 * The bytes of a session are a function of its seed and their offset, so
 * every byte of a well-behaved session is checked as it arrives, whatever
 * its size, along with the clean EOF. Of a resetter only the daemon's
 * survival is checked: with -p, that it lives and that its descriptor
 * count comes back to where it started.
 *
 *   randtest -a HOST:PORT [-s SEED] [-c CLIENTS] [-n SESSIONS | -d SECONDS]
 *            [-m MAXBYTES] [-p PID]
 *
 * The seed is printed first; the same seed replays the same sessions,
 * sizes, split points and resets (the timing is the machine's). Exit 0
 * when nothing was wrong, 1 otherwise, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK		(256 * 1024)
#define STUCK_MS	120000		/* a session silent this long failed */

enum kind { CHECKED, RESET_EARLY, RESET_SENDING, RESET_SHUT, RESET_READING,
	KINDS };
static const char *const kind_name[KINDS] = { "checked", "reset before "
	"sending", "reset while sending", "reset after half-close",
	"reset while reading" };

struct client {
	int fd;			/* -1 between sessions */
	unsigned id;
	uint32_t interest;	/* what epoll watches for */
	uint64_t rng;		/* this client's decisions */
	uint64_t seed;		/* this session's bytes */
	enum kind kind;
	size_t total, sent, got, reset_at;
	bool shut;
	long long send_at, read_at;	/* paused until then */
	long long last;			/* the last byte either way */
	unsigned long session;
};

static struct {
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint64_t seed;
	unsigned clients;
	unsigned long sessions;		/* to start; 0: until deadline */
	long long deadline;		/* no new session after; 0: none */
	size_t max_bytes;
	pid_t pid;
} opt = { .clients = 32, .max_bytes = 4 << 20 };

static struct {
	unsigned long started, by_kind[KINDS], pauses, errors;
	unsigned long long verified;
} count;

static int ep;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
mix(uint64_t x)			/* splitmix64's finalizer */
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
next(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	return mix(*s);
}

static size_t
below(uint64_t *s, size_t n)
{
	return n == 0 ? 0 : (size_t)(next(s) % n);
}

/* Byte i of a session: half of them letters, to give the echo work. */
static unsigned char
byte_at(uint64_t seed, size_t i)
{
	unsigned char b = (unsigned char)(mix(seed ^ (i / 8)) >> (i % 8 * 8));

	return (b & 1) ? (unsigned char)('a' + (b >> 1) % 26) : b;
}

static unsigned char
upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

static void
fail(const struct client *c, const char *what)
{
	fprintf(stderr, "randtest: seed %" PRIu64 " client %ld session %lu "
	    "(%s, %zu bytes): %s\n", opt.seed, (long)c->id, c->session,
	    kind_name[c->kind], c->total, what);
	count.errors++;
}

/* A size from none to max_bytes, every scale equally likely. */
static size_t
draw_size(uint64_t *s)
{
	unsigned bits = 0;

	while (((size_t)1 << bits) < opt.max_bytes)
		bits++;
	return below(s, ((size_t)1 << below(s, bits + 1)) + 1);
}

static bool
start(struct client *c, long long now)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	unsigned r;

	c->interest = ev.events;

	if ((opt.sessions != 0 && count.started >= opt.sessions) ||
	    (opt.deadline != 0 && now >= opt.deadline))
		return false;
	count.started++;
	c->session++;
	c->seed = next(&c->rng);
	c->total = draw_size(&c->rng);
	r = (unsigned)below(&c->rng, 10);
	c->kind = r < 6 ? CHECKED : (enum kind)(r - 5);
	c->reset_at = below(&c->rng, c->total + 1);
	c->sent = c->got = 0;
	c->shut = false;
	c->send_at = c->read_at = 0;
	c->last = now;
	c->fd = socket(opt.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1 || (connect(c->fd, (struct sockaddr *)&opt.ss,
	    opt.sslen) == -1 && errno != EINPROGRESS)) {
		fail(c, strerror(errno));
		if (c->fd != -1)
			close(c->fd);
		c->fd = -1;
		return false;
	}
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	return true;
}

static void
finish(struct client *c, bool reset)
{
	struct linger hard = { .l_onoff = 1, .l_linger = 0 };

	if (reset)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
	close(c->fd);
	c->fd = -1;
	count.by_kind[c->kind]++;
}

/* Now and then, a pause of up to max_ms. */
static void
maybe_pause(struct client *c, long long *until, long long now, int max_ms)
{
	if (below(&c->rng, 16) == 0) {
		*until = now + (long long)below(&c->rng, (size_t)max_ms + 1);
		count.pauses++;
	}
}

static bool
send_some(struct client *c, long long now)
{
	static unsigned char buf[CHUNK];
	size_t n = 1 + below(&c->rng, (size_t)1 << below(&c->rng, 19));
	ssize_t w;

	if (n > c->total - c->sent)
		n = c->total - c->sent;
	if (n > sizeof(buf))
		n = sizeof(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = byte_at(c->seed, c->sent + i);
	w = send(c->fd, buf, n, MSG_NOSIGNAL);
	if (w < 0)
		return errno == EAGAIN;
	c->sent += (size_t)w;
	c->last = now;
	maybe_pause(c, &c->send_at, now, 50);
	return true;
}

/* Read what there is; false once the session is over. */
static bool
read_some(struct client *c, long long now)
{
	static unsigned char buf[CHUNK];
	char what[160];
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, 1 + below(&c->rng, sizeof(buf)), 0);
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			unsigned char want = upper(byte_at(c->seed, c->got));

			if (c->got >= c->sent || buf[i] != want) {
				snprintf(what, sizeof(what), "byte %zu is "
				    "0x%02x, expected %s0x%02x", c->got, buf[i],
				    c->got >= c->sent ? "none (not sent yet), "
				    : "", want);
				fail(c, what);
				finish(c, false);
				return false;
			}
			c->got++;
		}
		count.verified += (unsigned long long)n;
		c->last = now;
		if (c->kind == RESET_READING && c->shut && c->got >= c->reset_at)
			break;
		maybe_pause(c, &c->read_at, now, 200);
		if (c->read_at > now)
			return true;
	}
	if (n == 0 && (!c->shut || c->got != c->total)) {
		snprintf(what, sizeof(what), "EOF after %zu of %zu bytes%s",
		    c->got, c->total, c->shut ? "" : ", before our half-close");
		fail(c, what);
	} else if (n < 0 && c->kind != RESET_READING) {
		snprintf(what, sizeof(what), "after %zu bytes: %s", c->got,
		    strerror(errno));
		fail(c, what);
	}
	finish(c, c->kind == RESET_READING);
	return false;
}

/* One step of c's session; false once it is over. */
static bool
step(struct client *c, uint32_t events, long long now)
{
	if (c->kind == RESET_EARLY ||
	    (c->kind == RESET_SENDING && c->sent >= c->reset_at) ||
	    (c->kind == RESET_SHUT && c->shut)) {
		finish(c, true);
		return false;
	}
	if ((events & EPOLLOUT) && !c->shut && now >= c->send_at) {
		if (c->sent < c->total && !send_some(c, now)) {
			fail(c, strerror(errno));
			finish(c, false);
			return false;
		}
		if (c->sent == c->total) {
			shutdown(c->fd, SHUT_WR);
			c->shut = true;
		}
	}
	if ((events & (EPOLLHUP | EPOLLERR)) ||
	    ((events & EPOLLIN) && now >= c->read_at))
		return read_some(c, now);
	return true;
}

/* Watch for what c may do now: level-triggered, a direction that is
 * paused or done must not be watched, or the loop would spin. */
static void
rearm(struct client *c, long long now)
{
	struct epoll_event ev = { .data.ptr = c };

	if (!c->shut && now >= c->send_at)
		ev.events |= EPOLLOUT;
	if (now >= c->read_at)
		ev.events |= EPOLLIN;
	if (ev.events != c->interest) {
		c->interest = ev.events;
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

/* The daemon's open descriptors, or -1 once it is gone. */
static int
fd_count(pid_t pid)
{
	char path[64];
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 2;
}

static void
run(struct client *cl)
{
	struct epoll_event evs[256];
	long long now = now_ms(), wake;
	unsigned live = 0;

	for (unsigned i = 0; i < opt.clients; i++)
		live += start(&cl[i], now);
	while (live > 0) {
		wake = now + 1000;
		for (unsigned i = 0; i < opt.clients; i++) {
			struct client *c = &cl[i];

			if (c->fd == -1)
				continue;
			if (c->send_at > now && c->send_at < wake)
				wake = c->send_at;
			if (c->read_at > now && c->read_at < wake)
				wake = c->read_at;
			if (now - c->last > STUCK_MS) {
				fail(c, "nothing moved for 120 s");
				finish(c, true);
				live--;
			}
		}
		int n = epoll_wait(ep, evs, 256, (int)(wake - now));
		now = now_ms();
		for (int i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;

			if (c->fd != -1 && !step(c, evs[i].events, now))
				live -= !start(c, now);
		}
		for (unsigned i = 0; i < opt.clients; i++)
			if (cl[i].fd != -1)
				rearm(&cl[i], now);
	}
}

static int
parse_addr(const char *text)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&opt.ss;
	char host[64];
	unsigned port;

	if (sscanf(text, "%63[0-9.]:%u", host, &port) != 2 || port > 65535 ||
	    inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	opt.sslen = sizeof(*sin);
	return 0;
}

int
main(int argc, char **argv)
{
	struct client *cl;
	int ch, fds_start = -1, fds_end = -1;
	bool have_seed = false, have_addr = false;
	long long end;

	while ((ch = getopt(argc, argv, "a:c:d:m:n:p:s:")) != -1) {
		switch (ch) {
		case 'a': have_addr = parse_addr(optarg) == 0; break;
		case 'c': opt.clients = (unsigned)atoi(optarg); break;
		case 'd': opt.deadline = now_ms() + atoll(optarg) * 1000; break;
		case 'm': opt.max_bytes = (size_t)atoll(optarg); break;
		case 'n': opt.sessions = strtoul(optarg, NULL, 10); break;
		case 'p': opt.pid = atoi(optarg); break;
		case 's': opt.seed = strtoull(optarg, NULL, 10);
			have_seed = true; break;
		default: have_addr = false; optind = argc + 1; break;
		}
	}
	if (!have_addr || optind != argc || opt.clients == 0 ||
	    opt.clients > 4096 || opt.max_bytes == 0 ||
	    (opt.sessions == 0 && opt.deadline == 0)) {
		fprintf(stderr, "usage: randtest -a IPV4:PORT [-s SEED] "
		    "[-c CLIENTS] [-n SESSIONS | -d SECONDS] [-m MAXBYTES] "
		    "[-p PID]\n");
		return 2;
	}
	if (!have_seed)
		opt.seed = mix((uint64_t)time(NULL) ^ (uint64_t)getpid());
	printf("randtest: seed %" PRIu64 "\n", opt.seed);
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	if (opt.pid > 0)
		fds_start = fd_count(opt.pid);
	ep = epoll_create1(EPOLL_CLOEXEC);
	cl = calloc(opt.clients, sizeof(*cl));
	for (unsigned i = 0; i < opt.clients; i++) {
		cl[i].id = i;
		cl[i].rng = mix(opt.seed + i);
	}
	run(cl);
	if (opt.pid > 0) {
		/* The daemon closes a reset connection when it next hears of
		 * it: give it until the deadline to get back to the start. */
		end = now_ms() + 30000;
		while ((fds_end = fd_count(opt.pid)) > fds_start &&
		    now_ms() < end)
			nanosleep(&(struct timespec){ .tv_nsec = 10000000 },
			    NULL);
		if (fds_end != fds_start) {
			fprintf(stderr, "randtest: seed %" PRIu64 ": the "
			    "daemon has %d descriptors, %d before\n", opt.seed,
			    fds_end, fds_start);
			count.errors++;
		}
	}
	printf("randtest: seed %" PRIu64 ": %lu sessions (", opt.seed,
	    count.started);
	for (int k = 0; k < KINDS; k++)
		printf("%s%lu %s", k > 0 ? ", " : "", count.by_kind[k],
		    kind_name[k]);
	printf("), %lu pauses, %llu bytes verified, %lu errors", count.pauses,
	    count.verified, count.errors);
	if (opt.pid > 0)
		printf("; daemon descriptors %d at the start, %d at the end",
		    fds_start, fds_end);
	printf("\n");
	free(cl);
	close(ep);
	return count.errors == 0 ? 0 : 1;
}
