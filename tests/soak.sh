#!/bin/sh
# soak.sh — make soak: everything at once against one daemon for DURATION
# (seconds): the randomized tester (checked sessions and resets at every
# stage), bulk transfers and churn through upcase bench, slowloris,
# stallers and connect floods (tests/soak_clients.py), with a reload every
# 5 s and a log reopen every 7 s. Ends with one summary; exit 1 when a
# well-behaved client saw an error, the daemon's descriptors did not come
# back, or it did not stop cleanly.
#
#   tests/soak.sh BINDIR RANDTEST DURATION    (90, 90s, 10m or 1h)
set -u
bin=$1 randtest=$2
case $3 in
*h) secs=$(( ${3%h} * 3600 )) ;;
*m) secs=$(( ${3%m} * 60 )) ;;
*s) secs=${3%s} ;;
*) secs=$3 ;;
esac
dir=$(mktemp -d /tmp/upcased-soak-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
conf=$dir/u.conf

write_conf() {	# $1: the port, $2: idle_timeout
	cat > "$conf" <<EOF
listen = 127.0.0.1:$1
listen = 127.0.0.2:0 metrics
max_connections = 5000
max_connections_per_ip = 500
idle_timeout = $2
drain_timeout = 5s
header_timeout = 2s
log_file = $dir/daemon.log
access_log = $dir/access.log
EOF
}

write_conf 0 5s
"$bin/upcased" -f -c "$conf" 2>"$dir/stderr" &
pid=$!
i=0
# The port is the kernel's choice; reloads name it, keeping the socket.
until grep -q "listening on 127.0.0.2:" "$dir/daemon.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
		echo "soak: the daemon did not start:"; cat "$dir/stderr" \
		    "$dir/daemon.log" 2>/dev/null; exit 1
	fi
	sleep 0.1
done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
    "$dir/daemon.log" | head -1)
maddr=$(sed -n 's/.*listening on \(127\.0\.0\.2:[0-9]*\).*/\1/p' \
    "$dir/daemon.log" | head -1)
addr=127.0.0.1:$port
fds0=$(ls /proc/$pid/fd | wc -l)
end=$(( $(date +%s) + secs ))
echo "soak: $secs s against pid $pid on $addr (metrics $maddr)"

"$randtest" -a "$addr" -c 64 -d "$secs" -m 8388608 > "$dir/randtest" 2>&1 &
rt=$!
python3 "$(dirname "$0")/soak_clients.py" "$addr" "$secs" \
    > "$dir/clients" 2>&1 &
cl=$!
( while [ "$(date +%s)" -lt $end ]; do
	"$bin/upcase" bench -a "$addr" -c 4 -n 64m --timeout 60 2>&1 | tail -1
  done > "$dir/bulk" ) &
bulk=$!
( while [ "$(date +%s)" -lt $end ]; do
	"$bin/upcase" bench -a "$addr" -c 200 -n 64 --timeout 60 2>&1 | tail -1
  done > "$dir/churn" ) &
churn=$!
reloads=0 reopens=0 t=0
while [ "$(date +%s)" -lt $end ]; do
	sleep 1
	t=$((t + 1))
	if [ $((t % 5)) = 0 ]; then
		write_conf "$port" $((5 + t % 2))s
		kill -HUP $pid && reloads=$((reloads + 1))
	fi
	if [ $((t % 7)) = 0 ]; then
		mv "$dir/daemon.log" "$dir/daemon.log.1"
		mv "$dir/access.log" "$dir/access.log.1"
		kill -USR1 $pid && reopens=$((reopens + 1))
	fi
done
wait $rt; rt_rc=$?
wait $cl; cl_rc=$?
wait $bulk $churn
# Every client is done; the daemon closes what it was told of.
i=0
while [ "$(ls /proc/$pid/fd | wc -l)" -gt "$fds0" ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
fds1=$(ls /proc/$pid/fd | wc -l)
metrics=$(python3 - "$maddr" <<'EOF'
import sys, urllib.request
print(urllib.request.urlopen("http://%s/metrics" % sys.argv[1]).read().decode())
EOF
)
m() { echo "$metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
hwm=$(awk '/VmHWM/ { print $2 }' /proc/$pid/status)
ticks=$(awk '{ print $14 + $15 }' /proc/$pid/stat)
kill -TERM $pid; wait $pid; exit_rc=$?
bulk_err=$(awk '{ n += $(NF-1) } END { print n + 0 }' "$dir/bulk")
churn_err=$(awk '{ n += $(NF-1) } END { print n + 0 }' "$dir/churn")
bulk_runs=$(grep -c 'MiB/s' "$dir/bulk")
churn_runs=$(grep -c 'MiB/s' "$dir/churn")
san=$(grep -c 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error' \
    "$dir/stderr" "$dir"/daemon.log* 2>/dev/null | awk -F: '{ n += $2 }
    END { print n + 0 }')
closed() { m "upcased_connections_closed_total{reason=\"$1\"}"; }
refused() { m "upcased_connections_refused_total{reason=\"$1\"}"; }

echo "soak summary ($secs s):"
echo "  connections served:" \
     "$(m "upcased_connections_accepted_total{listener=\"$addr\"}")" \
     "accepted, closed done $(closed done), reset $(closed reset)," \
     "idle_timeout $(closed idle_timeout)"
echo "  bytes: $(m upcased_received_bytes_total) in," \
     "$(m upcased_sent_bytes_total) out"
echo "  $(tail -1 "$dir/randtest")"
echo "  bulk: $bulk_runs runs of 4 x 64 MiB, $bulk_err errors;" \
     "churn: $churn_runs runs of 200 x 64 B, $churn_err errors"
echo "  $(cat "$dir/clients")"
echo "  faults injected: reloads $reloads, log reopens $reopens," \
     "refused per IP $(refused max_connections_per_ip)"
echo "  peak RSS $((hwm / 1024)) MiB (bound: 5000 connections x 256 KiB" \
     "backlog_high = 1250 MiB, plus the kernel's buffers)"
echo "  descriptors: $fds0 at the start, $fds1 at the end"
echo "  CPU time: $((ticks / $(getconf CLK_TCK))) s; exit status $exit_rc;" \
     "sanitizer reports $san"
[ $rt_rc = 0 ] && [ $cl_rc = 0 ] && [ $bulk_err = 0 ] && [ $churn_err = 0 ] \
    && [ "$fds0" = "$fds1" ] && [ $exit_rc = 0 ] && [ $san = 0 ] || {
	echo "soak: FAILED"; tail -5 "$dir/randtest" "$dir/stderr"; exit 1; }
echo "soak: ok"
