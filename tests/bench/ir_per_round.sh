#!/bin/bash
# ir_per_round.sh SERVER [ARG]...: a server's user-side instructions per
# ping-pong round, under callgrind: the Ir of a 6 s run less that of a 2 s
# run (the same 100 connections' accepts and closes in both), over the
# rounds between them. Instrumentation is on only while the load runs.
# valgrind cannot run the daemon under its own seccomp filter (its calls
# are trapped): give it -o sandbox=no. A measurement, never a test.
#
#   tests/bench/ir_per_round.sh build/bench/epoll_echo
#   tests/bench/ir_per_round.sh bin/upcased -f -c /dev/null \
#       -o listen=127.0.0.1:0 -o sandbox=no
set -e
out=$(mktemp -d)
valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$out/cg.%p" "$@" > "$out/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$out/log" && break; sleep 0.1; done
addr=$(grep -o 'listening on [^ ]*' "$out/log" | head -1 | cut -d' ' -f3)
declare -A rounds ir
for d in 2 6; do
	callgrind_control -z $pid > /dev/null 2>&1
	callgrind_control -i on $pid > /dev/null 2>&1
	rounds[$d]=$(bin/upcase bench -a "$addr" -c 100 --pingpong 512 \
	    --duration $d --timeout 60 | sed -n 's/.*s: \([0-9]*\) rounds.*/\1/p')
	callgrind_control -i off $pid > /dev/null 2>&1
	callgrind_control -d run$d $pid > /dev/null 2>&1
	sleep 0.5
	f=$(ls -t "$out"/cg.$pid.* | head -1)
	ir[$d]=$(awk '/^totals:/ { print $2; exit }' "$f")
	echo "$d s: ${rounds[$d]} rounds, ${ir[$d]} Ir ($f)"
done
kill $pid
wait $pid 2> /dev/null || true
echo "$(( (ir[6] - ir[2]) / (rounds[6] - rounds[2]) )) Ir per round"
