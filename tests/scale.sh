#!/bin/bash
# scale.sh — make scale: hold CONNS connections open at once against
# upcased, reload it beside them, then check each with a half-close round
# trip, and report what it cost.
#
# Each process here may hold at most `ulimit -Hn` descriptors (20,000 on
# the machine this was written on), so the run takes as many workers and
# upcase bench processes as CONNS needs, each below that limit; the
# connections come from as many loopback sources as keep the ephemeral
# ports a quarter used. As root it runs in a network namespace of its own,
# whose loopback gets the whole port range, deep listen queues and no
# syncookies (a cookie's connection exists on the client's side only until
# it sends). It refuses, before starting anything, a CONNS this machine
# cannot hold, naming the limit.
#
# The clients start one after another, each once the daemon has accepted
# most of what the earlier ones opened, and hold (--hold) until SIGUSR1:
# then the daemon reloads with all of them open while fresh connections
# keep arriving, every held one makes its round trip, and the old
# generation of workers finishes and exits. Last, a worker is killed and
# replaced, and the daemon stops.
set -eu
BIN=${BIN:-bin}
CONNS=${CONNS:-70000}
PORT=${PORT:-1070}
METRICS=${METRICS:-1071}
WORKERS_MAX=64			# upcased's own limit on workers

die() { echo "make scale: $*" >&2; exit 2; }

if [ "$(id -u)" = 0 ] && [ -z "${SCALE_NETNS:-}" ] &&
    unshare -n true 2>/dev/null; then
	SCALE_NETNS=1 exec unshare -n bash "$0" "$@"
fi
if [ -n "${SCALE_NETNS:-}" ]; then
	ip link set lo up
	echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
	echo 65535 >/proc/sys/net/core/somaxconn
	echo 65535 >/proc/sys/net/ipv4/tcp_max_syn_backlog
	echo 0 >/proc/sys/net/ipv4/tcp_syncookies
fi

# ---- what this machine can hold ------------------------------------------

ulimit -n "$(ulimit -Hn)"
fd_limit=$(ulimit -n)
per=$((fd_limit - 100))		# connections a process holds, at most
[ "$per" -ge 1000 ] || die "the descriptor limit is $fd_limit (ulimit -Hn)"
procs=$(( 3 * (CONNS / per + 1) ))	# two generations of workers, clients
read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
ports=$((hi - lo + 1))
sources=$(( (4 * CONNS + ports - 1) / ports ))
[ "$sources" -le 254 ] || die "CONNS=$CONNS needs $sources loopback" \
    "sources to keep the $ports ephemeral ports ($lo-$hi) a quarter used;" \
    "127.0.0.1 to 127.0.0.254 are all there are"

read -r fds_used _ fds_max </proc/sys/fs/file-nr
fds_need=$((2 * CONNS + 200 * procs))
[ $((fds_max - fds_used)) -ge $fds_need ] || die "CONNS=$CONNS needs" \
    "about $fds_need descriptors system-wide (two sockets a connection);" \
    "fs.file-max is $fds_max and $fds_used are in use"

# Two sockets a connection in the kernel (about 5 KiB of slab each, idle),
# the daemon's and the client's state, and the processes themselves.
mem_need=$((CONNS * 12 + procs * 8192))	# KiB
mem_have=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo)
[ "$mem_have" -ge $mem_need ] || die "CONNS=$CONNS needs about" \
    "$((mem_need >> 20)) GiB of memory (12 KiB a connection, most of" \
    "it the kernel's two sockets); $((mem_have >> 20)) GiB is available"

workers=${WORKERS:-$(( (CONNS * 21 / 20 + per - 1) / per ))}
clients=$(( (CONNS + per - 1) / per ))
[ "$workers" -le $WORKERS_MAX ] || die "CONNS=$CONNS needs $workers" \
    "workers of at most $per connections each (a process may hold" \
    "$fd_limit descriptors); upcased runs at most $WORKERS_MAX workers," \
    "so this machine holds at most $((WORKERS_MAX * per * 20 / 21))"
[ "$workers" -ge 2 ] || workers=2	# a master and its workers, at least

# ---- the run -----------------------------------------------------------

dir=$(mktemp -d /tmp/upcased-scale-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait; rm -rf "$dir"' EXIT

now() { echo "${EPOCHREALTIME/./}"; }		# microseconds
secs() { awk -v us=$(( $(now) - $1 )) 'BEGIN { printf "%.1f s", us / 1e6 }'; }

children() { cat /proc/$master/task/$master/children 2>/dev/null || true; }

# Wait until the master has n workers, each in epoll_wait; at most 120 s.
wait_workers() {
	local n=$1 deadline=$(( $(now) + 120000000 )) ready p
	while :; do
		ready=0
		for p in $(children); do
			grep -qs epoll_wait /proc/$p/wchan && ready=$((ready + 1))
		done
		[ $ready = "$n" ] && [ "$(children | wc -w)" = "$n" ] && return
		[ "$(now)" -lt $deadline ] || die "$ready of $n workers ready" \
		    "after 120 s"
		sleep 0.05
	done
}

scrape() {	# one GET /metrics, into $dir/metrics
	exec 3<>/dev/tcp/127.0.0.2/$METRICS
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
	cat <&3 >"$dir/metrics"
	exec 3<&-
}
sample() { scrape; awk -v m="$1" '$1 == m { print $2 }' "$dir/metrics"; }
refused() { scrape; awk '/^upcased_connections_refused_total/ { n += $2 }
    END { print n + 0 }' "$dir/metrics"; }

pss_kib() {	# the master and its workers: shared pages split among them
	local kib=0 p
	for p in $master $(children); do
		kib=$((kib + $(awk '/^Pss:/ { print $2 }' \
		    /proc/$p/smaps_rollup 2>/dev/null || echo 0)))
	done
	echo $kib
}
slab_kib() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

t=$(now)
"$BIN/upcased" -f -c /dev/null -o "listen=127.0.0.1:$PORT" \
    -o "listen=127.0.0.2:$METRICS metrics" -o "workers=$workers" \
    -o "max_connections=$per" -o listen_backlog=65535 \
    -o idle_timeout=1h -o shutdown_timeout=1h 2>"$dir/log" &
master=$!
wait_workers "$workers"
started=$(secs $t)
until sample upcased_connections_open >/dev/null 2>&1; do sleep 0.1; done
pss0=$(pss_kib); slab0=$(slab_kib)

# The clients, each once the daemon holds the earlier ones' connections
# and a quarter of the last one's; stopped when the count makes no
# progress for 60 s.
t=$(now); pids=; last=0; stalled=$(now); open=0
for i in $(seq "$clients"); do
	n=$(( CONNS / clients + (i <= CONNS % clients ? 1 : 0) ))
	"$BIN/upcase" bench -a "127.0.0.1:$PORT" -c $n -n 64 --hold 1h \
	    --sources "$sources" --timeout 5m --json >"$dir/bench$i" \
	    2>"$dir/err$i" &
	pids="$pids $!"
	want=$(( (CONNS / clients) * (i - 1) + n * 1 / 4 ))
	while :; do
		open=$(sample upcased_connections_open)
		[ "$open" -ge "$want" ] && [ $i -lt "$clients" ] && break
		[ "$open" -ge "$CONNS" ] && break
		[ "$open" -gt "$last" ] && { last=$open; stalled=$(now); }
		if [ $(( $(now) - stalled )) -gt 60000000 ]; then
			echo "make scale: stopped at $open connections open" \
			    "of $CONNS: none more in 60 s. The clients said:"
			cat "$dir"/err* | sort | uniq -c | sort -rn | head -5
			tail -5 "$dir/log"
			exit 1
		fi
		sleep 0.2
	done
done
established=$(secs $t)
peak=$(sample upcased_connections_open)
pss1=$(pss_kib); slab1=$(slab_kib)
sockstat=$(awk '/^TCP:/ { print "inuse " $3 ", buffers " $NF * 4 " KiB" }' \
    /proc/net/sockstat)

# A scrape, answered by whichever worker accepts it, sums every worker's
# counters: its latency with all of them full.
lat_ms=$(python3 - "$METRICS" <<'PY'
import socket, sys, time
lat = []
for _ in range(20):
    t = time.perf_counter()
    s = socket.create_connection(("127.0.0.2", int(sys.argv[1])))
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    while s.recv(65536):
        pass
    s.close()
    lat.append((time.perf_counter() - t) * 1000)
lat.sort()
print(f"median {lat[10]:.2f} ms, max {lat[-1]:.2f} ms")
PY
)

# Reload with all of them open, fresh connections arriving throughout.
refused0=$(refused)
"$BIN/upcase" bench -a "127.0.0.1:$PORT" -c 50 -n 64 --rate 1000 \
    --duration 10 --sources 4 --json >"$dir/fresh" 2>&1 &
fresh=$!
sleep 1		# a benchmark's ramp: the fresh ones are arriving
old=$(children)
t=$(now)
kill -HUP $master
wait_workers $((2 * workers))
reloaded=$(secs $t)
wait $fresh || true
fresh_errors=$(grep -o '"errors":[0-9]*' "$dir/fresh" | cut -d: -f2)
fresh_rounds=$(grep -o '"rounds":[0-9]*' "$dir/fresh" | cut -d: -f2)
refused1=$(refused)

# Release: every held connection makes its round trip.
t=$(now)
kill -USR1 $pids || true
errors=0; rounds=0
for p in $pids; do wait "$p" || errors=$((errors + 1)); done
verified=$(secs $t)
for i in $(seq "$clients"); do
	e=$(grep -o '"errors":[0-9]*' "$dir/bench$i" | cut -d: -f2)
	r=$(grep -o '"rounds":[0-9]*' "$dir/bench$i" | cut -d: -f2)
	errors=$((errors + ${e:-1})); rounds=$((rounds + ${r:-0}))
	[ "${e:-1}" = 0 ] || head -3 "$dir/err$i"
done
# The old generation: every one gone once its connections are.
for p in $old; do
	while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
done
finished=$(secs $t)
finishing=$(grep -c ": exiting: connections served" "$dir/log" || true)

# A worker killed is replaced.
victim=$(children | awk '{ print $1 }')
t=$(now)
kill -KILL "$victim"
while children | grep -qw "$victim"; do sleep 0.05; done
wait_workers "$workers"
replaced=$(secs $t)

t=$(now)
kill -TERM $master
wait $master || true
stopped=$(secs $t)

cat <<EOF
make scale: CONNS=$CONNS through $workers workers (at most $per connections each), from $clients clients and $sources loopback sources
  peak open connections (metrics):  $peak
  half-close round trips verified:  $rounds of $CONNS, errors $errors
  time to establish:                $established
  time to verify (round trips):     $verified
  daemon memory (PSS, master and workers): $pss0 KiB idle, $pss1 KiB at the peak: $(( (pss1 - pss0) * 1024 / (peak > 0 ? peak : 1) )) bytes a connection
  kernel slab (/proc/meminfo):      $slab0 KiB before, $slab1 KiB at the peak: $(( (slab1 - slab0) * 1024 / (peak > 0 ? peak : 1) )) bytes a connection (two sockets); TCP $sockstat
  metrics scrape, $workers workers holding them: $lat_ms (20 scrapes)
  SIGHUP with all open:             $((2 * workers)) workers ready after $reloaded; fresh connections meanwhile: $fresh_rounds round trips, errors $fresh_errors; refused $((refused1 - refused0))
  old generation:                   all $workers exited $finished after the release ($finishing exit lines)
  supervision:                      $workers workers started in $started; a killed one replaced in $replaced; stopped in $stopped
EOF
[ "$errors" = 0 ] && [ "$rounds" = "$CONNS" ] && [ "$peak" -ge "$CONNS" ] &&
    [ "${fresh_errors:-1}" = 0 ] && [ $((refused1 - refused0)) = 0 ]
