#!/bin/bash
# scale.sh — make scale: hold CONNS connections at once against upcased
# with WORKERS workers (each process here may hold at most 20,000
# descriptors, so one process tops out near 20k), then check each with a
# half-close round trip. Several upcase bench processes share the load,
# each from its own range of loopback sources; --hold keeps every
# connection open until all are and the hold has passed. The daemon's
# metrics give the peak of open connections (every worker's, summed);
# /proc gives the resident memory of the master and its workers.
set -eu
BIN=${BIN:-bin}
CONNS=${CONNS:-70000}
WORKERS=${WORKERS:-4}
CLIENTS=${CLIENTS:-4}
HOLD=${HOLD:-20}
PORT=${PORT:-1070}
METRICS=${METRICS:-1071}
dir=$(mktemp -d /tmp/upcased-scale-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

rss_kib() {	# the master and its workers, summed
	kib=0
	for p in $1 $(cat /proc/$1/task/$1/children); do
		kib=$((kib + $(awk '/^VmRSS/ { print $2 }' /proc/$p/status)))
	done
	echo $kib
}

open_now() {
	exec 3<>/dev/tcp/127.0.0.2/$METRICS
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
	awk '/^upcased_connections_open / { print $2 }' <&3
	exec 3<&-
}

"$BIN/upcased" -f -c /dev/null -o "listen=127.0.0.1:$PORT" \
    -o "listen=127.0.0.2:$METRICS metrics" -o "workers=$WORKERS" \
    -o max_connections=19900 -o listen_backlog=65535 \
    2>"$dir/log" &
master=$!
until [ -s "$dir/log" ] && open_now >/dev/null 2>&1; do sleep 0.1; done
base=$(rss_kib $master)
per=$((CONNS / CLIENTS))
clients=
for i in $(seq $CLIENTS); do
	"$BIN/upcase" bench -a "127.0.0.1:$PORT" -c $per -n 64 --hold "$HOLD" \
	    --sources 60 --timeout 120 --json >"$dir/bench$i" 2>&1 &
	clients="$clients $!"
done
running() { for p in $clients; do kill -0 $p 2>/dev/null && return 0; done
	return 1; }
peak=0; peak_rss=0
while running; do
	n=$(open_now)
	if [ "$n" -gt "$peak" ]; then
		peak=$n; peak_rss=$(rss_kib $master)
	fi
	sleep 0.5
done
wait $clients || true
errors=0; rounds=0
for i in $(seq $CLIENTS); do
	tail -1 "$dir/bench$i" | grep -q '"errors":0}' || {
	    errors=1; cat "$dir/bench$i"; }
	rounds=$((rounds + $(tail -1 "$dir/bench$i" |
	    sed 's/.*"rounds":\([0-9]*\).*/\1/')))
done
kill $master; wait $master || true
echo "workers=$WORKERS: $peak connections open at once (of $CONNS); $rounds" \
    "half-close round trips verified; RSS $base KiB idle, $peak_rss KiB" \
    "at the peak: $(( (peak_rss - base) * 1024 / (peak > 0 ? peak : 1) ))" \
    "bytes per connection ($(( peak_rss * 1024 / (peak > 0 ? peak : 1) ))" \
    "with the idle footprint)"
cat "$dir/log"
[ $errors = 0 ] && [ $rounds = $CONNS ]
