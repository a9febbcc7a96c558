#!/bin/bash
# matrix.sh — make matrix: upcase probe through the TCP relays Debian
# ships, each set up on loopback in front of one probe listener, with its
# version and configuration recorded; the matrix (relay x case) goes to
# docs/matrix.md, docs/matrix.json and the README, between its
# <!-- matrix --> markers. It installs the relays that are
# missing (as root) and leaves nothing running.
set -eu
BIN=${BIN:-bin}
OUT=${OUT:-docs}
BASE=${BASE:-17600}		# the probe listener; relays on BASE+1...
IDLE=${IDLE:-2s}
PY=/usr/bin/python3

need=
for p in haproxy:/usr/sbin/haproxy nginx-light:/usr/sbin/nginx \
    libnginx-mod-stream:/usr/lib/nginx/modules/ngx_stream_module.so \
    socat:/usr/bin/socat ncat:/usr/bin/ncat rinetd:/usr/sbin/rinetd \
    redir:/usr/bin/redir systemd:/lib/systemd/systemd-socket-proxyd \
    microsocks:/usr/bin/microsocks tinyproxy:/usr/bin/tinyproxy \
    pen:/usr/bin/pen simpleproxy:/usr/bin/simpleproxy 6tunnel:/usr/bin/6tunnel \
    xinetd:/usr/sbin/xinetd sslh:/usr/sbin/sslh stone:/usr/bin/stone \
    openssl:/usr/bin/openssl stunnel4:/usr/bin/stunnel4 \
    openssh-server:/usr/sbin/sshd openssh-client:/usr/bin/ssh \
    spiped:/usr/bin/spiped nftables:/usr/sbin/nft \
    dante-server:/usr/sbin/danted squid:/usr/sbin/squid; do
	[ -e "${p#*:}" ] || need="$need ${p%%:*}"
done
if [ -n "$need" ]; then
	[ "$(id -u)" = 0 ] || { echo "make matrix: missing:$need;" \
	    "run: sudo apt-get install$need" >&2; exit 2; }
	echo "  APT    $need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q $need >/dev/null 2>&1 ||
	    { apt-get update -q >/dev/null && apt-get install -y -q $need \
	    >/dev/null; }
fi
# rinetd's and tinyproxy's packages start system instances, and so do
# those of the others this run has just installed: it starts its own, and
# leaves none of theirs running.
stop="rinetd tinyproxy"
for p in $need; do
	case $p in
	xinetd | sslh) stop="$stop $p" ;;
	openssh-server) stop="$stop ssh" ;;
	dante-server) stop="$stop danted" ;;
	squid) stop="$stop squid" ;;
	esac
done
# shellcheck disable=SC2086
systemctl stop $stop 2>/dev/null || true

dir=$(mktemp -d /tmp/upcased-matrix-XXXXXX)
# Each relay in a process group of its own (set -m), killed whole at the
# end: ncat and socat fork a process per connection.
set -m
run_sshd=	# 1 once this run has made /run/sshd
nft=		# the nftables table, once this run may have added it
# Without set -e in it: a relay already gone must not stop the others'
# kill, and the run's own exit status stands.
cleanup() {
	set +e
	for j in $(jobs -p); do kill -- -"$j" 2>/dev/null; done
	wait 2>/dev/null
	[ -z "$run_sshd" ] || rmdir /run/sshd 2>/dev/null
	[ -z "$nft" ] || nft delete table ip "$nft" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
up=127.0.0.1:$BASE
upp=127.0.0.1:$((BASE + 100))	# the same, reading PROXY headers

"$BIN/upcased" -f -c /dev/null -o "listen=$up probe" \
    -o "listen=$upp probe proxy_protocol" -o drain_timeout=5m \
    -o idle_timeout=5m 2>"$dir/upcased.log" &
until grep -q "listening on $upp" "$dir/upcased.log"; do sleep 0.1; done

n=0
setups=()	# name|version|configuration|port|--via scheme|--direct|
		# --refused|--black-hole
add() {
	if [ -n "$dead" ]; then dead=$4; return; fi	# a dead end's front
	setups+=("$1|$2|$3|$4|${5:-}|${6:-$up}||")
}
target=$up	# where the start_X functions point their relay
dead=		# set: add records the front's port here, and no row

# The dead ends CN3 and CN4 need: a closed port, and a listener whose
# queue is full, which never answers a SYN.
closed=127.0.0.1:$((BASE + 98))
hole=127.0.0.1:$((BASE + 99))
if (exec 3<>"/dev/tcp/127.0.0.1/$((BASE + 98))") 2>/dev/null; then
	echo "make matrix: 127.0.0.1:$((BASE + 98)) must be closed" >&2
	exit 1
fi
$PY -c 'import socket, struct, sys, time
l = socket.socket(); l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(0)
c = socket.create_connection(l.getsockname())  # a queue of 0 holds one
queued = lambda: struct.unpack_from("I", l.getsockopt(socket.IPPROTO_TCP,
    socket.TCP_INFO, 104), 24)[0]  # a listener'"'"'s tcpi_unacked: its queue
while queued() < 1:
    time.sleep(0.01)
c.close()
print("full", flush=True); time.sleep(86400)' "$((BASE + 99))" \
    >"$dir/hole.log" 2>&1 &
until grep -q full "$dir/hole.log"; do sleep 0.1; done

# The last row's --refused and --black-hole: FRONT and FRONT.
dead_ends() {
	local last=${setups[-1]}
	setups[-1]="${last%||}|$1|$2"
}
# with_dead_ends START NAME ARGS...: START NAME ARGS... as a row, then the
# same relay twice more, to the closed port and to the hole, whose fronts
# are the row's dead ends.
with_dead_ends() {
	local start=$1 name=$2 r h
	shift 2
	"$start" "$name" "$@"
	target=$closed dead=1; "$start" "$name-refused" "$@"; r=$dead
	target=$hole dead=1; "$start" "$name-hole" "$@"; h=$dead
	target=$up dead=
	dead_ends "127.0.0.1:$r" "127.0.0.1:$h"
	fronts+=("$name-refused|$r" "$name-hole|$h")
}
fronts=()	# name|port of the dead ends' relays, which must listen too
port() { n=$((n + 1)); p=$((BASE + n)); }	# the next port, into p
dv() { dpkg-query -W -f '${Version}' "$1" | sed 's/^[0-9]*://'; }
listens() {	# PORT: within 10 s
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
		sleep 0.1
	done
	return 1
}

# Each start_X NAME CONFIG starts one relay in the background on a new
# port and records it; the probes run once every one listens.
nginx_v=$(nginx -v 2>&1 | sed 's/.*nginx\///')
start_nginx() {	# NAME DIRECTIVE LABEL [LISTENER]
	local d=$dir/$1 to=${4:-$target}; port; mkdir -p "$d"
	cat >"$d/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off; worker_processes 1; user root root;
pid $d/nginx.pid; error_log $d/nginx.err notice;
events {}
stream { server { listen 127.0.0.1:$p; proxy_pass $to; $2 } }
EOF
	nginx -e "$d/nginx.err" -p "$d" -c "$d/nginx.conf" >/dev/null 2>&1 &
	add "$1" "nginx $nginx_v stream" "$3" "$p" "" "$to"
}
haproxy_v=$(haproxy -v | awk 'NR == 1 { print $3 }')
start_haproxy() {	# NAME DEFAULTS LABEL [LISTENER SERVER-OPTIONS]
	local d=$dir/$1 to=${4:-$target}; port; mkdir -p "$d"
	printf 'defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n%bfrontend f\n    bind 127.0.0.1:%s\n    default_backend b\nbackend b\n    server u %s%s\n' \
	    "$2" "$p" "$to" "${5:-}" >"$d/haproxy.cfg"
	haproxy -db -f "$d/haproxy.cfg" >"$d/haproxy.log" 2>&1 &
	add "$1" "HAProxy $haproxy_v mode tcp" "timeout client/server 30s$3" \
	    "$p" "" "$to"
}
socat_v=$(socat -V | awk '/socat version/ { print $3 }')
start_socat() {
	port
	# shellcheck disable=SC2086
	socat $2 "TCP-LISTEN:$p,bind=127.0.0.1,fork,reuseaddr" "TCP:$target$3" \
	    2>/dev/null &
	add "$1" "socat $socat_v" "$4" "$p"
}

add direct "upcased $("$BIN/upcased" -V | awk '{ print $2 }')" \
    "the probe listener itself" "$BASE"
start_nginx nginx-off "" "proxy_half_close off (the default)"
with_dead_ends start_nginx nginx-on "proxy_half_close on;" "proxy_half_close on"
with_dead_ends start_haproxy haproxy "" ""
start_haproxy haproxy-fin '    timeout client-fin 1s\n    timeout server-fin 1s\n' \
    ", timeout client-fin/server-fin 1s"
start_haproxy haproxy-abort '    option abortonclose\n' ", option abortonclose"
start_haproxy haproxy-proxy "" ", send-proxy-v2 to a proxy_protocol listener" \
    "$upp" " send-proxy-v2"
start_nginx nginx-proxy "proxy_half_close on; proxy_protocol on;" \
    "proxy_half_close on, proxy_protocol on (v1) to a proxy_protocol listener" \
    "$upp"
start_socat socat "" "" "TCP-LISTEN,fork (default -t 0.5)"
with_dead_ends start_socat socat-t30 "-t 30" "" "-t 30"
start_socat socat-shut-none "" ",shut-none" "shut-none on the upstream"
port
ncat -l -k 127.0.0.1 "$p" --sh-exec "exec ncat 127.0.0.1 $BASE" \
    2>/dev/null &
add ncat "ncat $(ncat --version 2>&1 | awk '/Version/ { print $3 }')" \
    "-l -k --sh-exec 'ncat HOST PORT'" "$p"
port
echo "127.0.0.1 $p 127.0.0.1 $BASE" >"$dir/rinetd.conf"
rinetd -f -c "$dir/rinetd.conf" 2>/dev/null &
add rinetd "rinetd $(dpkg-query -W -f '${Version}' rinetd)" "defaults" "$p"
port
redir -n "127.0.0.1:$p" "$up" 2>/dev/null &
add redir "redir $(dpkg-query -W -f '${Version}' redir)" "defaults" "$p"
port
systemd-socket-activate -l "127.0.0.1:$p" \
    /lib/systemd/systemd-socket-proxyd "$up" >/dev/null 2>&1 &
add systemd-socket-proxyd \
    "systemd-socket-proxyd $(systemctl --version | awk 'NR == 1 { print $2 }')" \
    "under systemd-socket-activate" "$p"
port
pen -f "127.0.0.1:$p" "$up" >"$dir/pen.log" 2>&1 &
add pen "pen $(dv pen)" "-f (in the foreground), defaults" "$p"
port
simpleproxy -L "127.0.0.1:$p" -R "$up" >"$dir/simpleproxy.log" 2>&1 &
add simpleproxy "simpleproxy $(dv simpleproxy)" "-L -R, defaults" "$p"
port
6tunnel -4 -d -l 127.0.0.1 "$p" 127.0.0.1 "$BASE" >"$dir/6tunnel.log" 2>&1 &
add 6tunnel "6tunnel $(dv 6tunnel)" "-4 -d: IPv4 to IPv4, in the foreground" \
    "$p"
port
cat >"$dir/xinetd.conf" <<EOF
defaults
{
	log_type = FILE $dir/xinetd.log
}
service upcased-matrix
{
	type = UNLISTED
	socket_type = stream
	protocol = tcp
	wait = no
	user = root
	bind = 127.0.0.1
	port = $p
	redirect = 127.0.0.1 $BASE
	cps = 10000 1
	instances = UNLIMITED
}
EOF
xinetd -dontfork -f "$dir/xinetd.conf" -pidfile "$dir/xinetd.pid" \
    >"$dir/xinetd.err" 2>&1 &
add xinetd "xinetd $(dv xinetd)" \
    "an UNLISTED service with redirect = HOST PORT, cps 10000 (the default, 50 a second, turns the service off for 10 s: the probe makes more)" "$p"
port
sslh -f -n -p "127.0.0.1:$p" --anyprot "$up" >"$dir/sslh.log" 2>&1 &
add sslh "sslh $(dv sslh) (sslh-fork)" "--anyprot HOST:PORT, defaults" "$p"
port
stone -n -r "$up" "127.0.0.1:$p" >"$dir/stone.log" 2>&1 &
add stone "stone $(dv stone)" "HOST:PORT SHOST:SPORT, -r (SO_REUSEADDR)" "$p"

# The tunnels: two ends on loopback, the row's port the first, the
# second's port not probed but waited for.
inner() {	# NAME PORT
	listens "$2" && return
	echo "make matrix: $1 does not listen on 127.0.0.1:$2" >&2
	exit 1
}
d=$dir/stunnel; port; q=$p; port; mkdir -p "$d"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj /CN=127.0.0.1 -days 1 -keyout "$d/key.pem" -out "$d/cert.pem" \
    2>/dev/null
printf 'foreground = yes\npid =\n[server]\naccept = 127.0.0.1:%s\nconnect = %s\ncert = %s\nkey = %s\n' \
    "$p" "$up" "$d/cert.pem" "$d/key.pem" >"$d/server.conf"
printf 'foreground = yes\npid =\n[client]\nclient = yes\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\nverifyPeer = yes\nCAfile = %s\n' \
    "$q" "$p" "$d/cert.pem" >"$d/client.conf"
stunnel "$d/server.conf" >"$d/server.log" 2>&1 &
inner "the stunnel server" "$p"
stunnel "$d/client.conf" >"$d/client.log" 2>&1 &
add stunnel "stunnel $(dv stunnel4)" \
    "client = yes to a second stunnel, the server: TLS 1.3 between them (a self-signed P-256 cert, verifyPeer)" \
    "$q"

d=$dir/ssh; port; q=$p; port; mkdir -p "$d"
# sshd's privilege separation directory, which its system service makes.
[ -d /run/sshd ] || { mkdir -m 755 /run/sshd && run_sshd=1; }
ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
cp "$d/client_key.pub" "$d/authorized_keys"
cat >"$d/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PidFile $d/sshd.pid
PermitRootLogin prohibit-password
AuthenticationMethods publickey
KbdInteractiveAuthentication no
PasswordAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
EOF
/usr/sbin/sshd -D -e -f "$d/sshd_config" -p "$p" >"$d/sshd.log" 2>&1 &
inner sshd "$p"
ssh -N -F /dev/null -o BatchMode=yes -o ExitOnForwardFailure=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -i "$d/client_key" -L "127.0.0.1:$q:$up" -p "$p" \
    root@127.0.0.1 >"$d/ssh.log" 2>&1 &
add ssh "OpenSSH $(dv openssh-server)" \
    "ssh -N -L through an sshd on loopback: every forward a channel of one SSH connection" \
    "$q"

d=$dir/spiped; port; q=$p; port; mkdir -p "$d"
(umask 077 && dd if=/dev/urandom of="$d/key" bs=32 count=1 2>/dev/null)
spiped -F -d -s "[127.0.0.1]:$p" -t "[127.0.0.1]:$BASE" -k "$d/key" >"$d/d.log" 2>&1 &
inner "spiped -d" "$p"
spiped -F -e -s "[127.0.0.1]:$q" -t "[127.0.0.1]:$p" -k "$d/key" \
    >"$d/e.log" 2>&1 &
add spiped "spiped $(dv spiped)" "-e to -d, both -F, defaults" "$q"

# The kernel's NAT, no relay process: locally generated connections to
# the port go to the probe listener (127.0.0.1 to 127.0.0.1 needs no
# route_localnet). A table of its own, deleted at the end; one left by a
# run that was killed outright goes first.
port; r=$p; port; h=$p; port
nft=upcased_matrix_$BASE
nft delete table ip "$nft" 2>/dev/null || true
nft -f - <<EOF
table ip $nft {
	chain output {
		type nat hook output priority -100; policy accept;
		ip daddr 127.0.0.1 tcp dport $p dnat to $up
		ip daddr 127.0.0.1 tcp dport $r dnat to $closed
		ip daddr 127.0.0.1 tcp dport $h dnat to $hole
	}
}
EOF
add nftables "Linux $(uname -r) nftables $(dv nftables)" \
    "DNAT in a nat output chain (conntrack), no relay process" "$p"
dead_ends "127.0.0.1:$r" "127.0.0.1:$h"

port
microsocks -i 127.0.0.1 -p "$p" >/dev/null 2>&1 &
add microsocks "microsocks $(dpkg-query -W -f '${Version}' microsocks)" \
    "defaults; upcase probe --via socks5://" "$p" socks5
dead_ends "$closed" "$hole"	# where the proxy is asked to connect
d=$dir/dante; port; mkdir -p "$d"
cat >"$d/danted.conf" <<EOF
logoutput: stderr
internal: 127.0.0.1 port = $p
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 127.0.0.1/32 command: connect }
EOF
danted -f "$d/danted.conf" -p "$d/danted.pid" >"$d/danted.log" 2>&1 &
add dante "Dante $(dv dante-server) danted" \
    "socksmethod none, connect to the listener only; upcase probe --via socks5://" \
    "$p" socks5
port
printf 'Port %s\nListen 127.0.0.1\nTimeout 600\nAllow 127.0.0.1\n' "$p" \
    >"$dir/tinyproxy.conf"
tinyproxy -d -c "$dir/tinyproxy.conf" >/dev/null 2>&1 &
add tinyproxy "tinyproxy $(dpkg-query -W -f '${Version}' tinyproxy)" \
    "no ConnectPort limit; upcase probe --via http-connect://" "$p" \
    http-connect
dead_ends "$closed" "$hole"
# Squid runs as proxy: its directory is its own, the temp dir only
# searchable. No cache, no pinger, no DNS but loopback's.
d=$dir/squid; port; mkdir -p "$d"; chmod 711 "$dir"; chown proxy: "$d"
cat >"$d/squid.conf" <<EOF
http_port 127.0.0.1:$p
visible_hostname upcased-matrix
dns_nameservers 127.0.0.1
pinger_enable off
acl SSL_ports port $BASE
acl Safe_ports port $BASE
acl CONNECT method CONNECT
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow localhost
http_access deny all
cache deny all
cache_mem 8 MB
pid_filename $d/squid.pid
access_log stdio:$d/access.log
cache_log $d/cache.log
cache_store_log none
coredump_dir $d
shutdown_lifetime 1 seconds
EOF
squid -N -f "$d/squid.conf" >"$d/squid.log" 2>&1 &
add squid "Squid $(dv squid)" \
    "CONNECT to the listener's port only (SSL_ports, Safe_ports), cache deny all; upcase probe --via http-connect://" \
    "$p" http-connect

# Every relay listening, or the run says which is not.
for s in "${setups[@]}" "${fronts[@]}"; do
	IFS='|' read -r name _ _ p _ <<<"$s"
	[ -n "$p" ] || IFS='|' read -r name p <<<"$s"	# a front
	listens "$p" && continue
	echo "make matrix: $name does not listen on 127.0.0.1:$p" >&2
	exit 1
done

echo "make matrix: upcase probe --direct LISTENER --idle $IDLE through" \
    "${#setups[@]} setups at once"
start=$SECONDS
probes=()
for s in "${setups[@]}"; do
	IFS='|' read -r name _ _ p via direct refused hole_at <<<"$s"
	to=(-a "127.0.0.1:$p" --direct "$direct")
	[ "$p" = "$BASE" ] && to=(-a "$up")
	[ -n "$via" ] && to=(-a "$up" --via "$via://127.0.0.1:$p" --direct "$up")
	[ -n "$refused" ] && to+=(--refused "$refused" --black-hole "$hole_at")
	"$BIN/upcase" probe "${to[@]}" --idle "$IDLE" --json \
	    >"$dir/$name.json" 2>"$dir/$name.err" &
	probes+=($!)
done
for p in "${probes[@]}"; do wait "$p" || true; done
echo "make matrix: done in $((SECONDS - start)) s"

mkdir -p "$OUT"
printf '%s\n' "${setups[@]}" >"$dir/setups"
$PY - "$dir" "$OUT" <<'PY'
import json, sys, os, datetime
d, out = sys.argv[1], sys.argv[2]
rows = []
for line in open(os.path.join(d, "setups")).read().splitlines():
    name, version, config, port, via, direct, refused, hole = \
        line.split("|")
    try:
        probe = json.load(open(os.path.join(d, name + ".json")))
    except (OSError, ValueError):
        err = open(os.path.join(d, name + ".err")).read().strip()
        probe = {"error": err or "no output"}
    rows.append({"setup": name, "relay": version, "configuration": config,
                 "probe": probe})
def cell(c):
    v, f = c["verdict"], c["figures"]
    if "shortest_cut_ms" in f:
        cut = f["shortest_cut_ms"]
        return f"{v}: cut at the FIN" if cut == 0 else \
            f"{v}: cut {cut / 1000:.2f} s after it"
    if "fin_latency_ms" in f:
        return f"{f['fin_latency_ms']:.1f} ms"
    if c["id"] in ("CN3", "CN4") and c["data"] == "pass" and \
            c.get("evidence"):
        e = c["evidence"]
        how = {"refused": "no connection", "reset": "reset",
               "eof": "EOF"}.get(e["end"], "still open")
        ms = e["end_ms"] if e["end"] != "refused" else None
        at = f", {ms / 1000:.1f} s" if ms is not None and how != \
            "still open" else ""
        return f"{v}: {how}{at}" if v != "info" else f"{how}{at}"
    if "server_end_ms" in f and c["evidence"].get("server"):
        seen = "reset" if c["evidence"]["server"]["state"] == "reset" \
            else "FIN"
        return f"{seen}, {f['server_end_ms']:.1f} ms"
    if v == "pass" and "longest_delivered_ms" in f:
        return f"pass ({f['longest_delivered_ms'] / 1000:.0f} s)"
    if v != "pass" and c.get("pattern") == "timer-after-fin" and \
            "fin_to_server_ms" in f:
        return f"{v}: FIN held {f['fin_to_server_ms'] / 1000:.2f} s"
    if "left_open" in f and f["left_open"] > 0:
        return f"{v}: {f['left_open']:.0f} left open"
    if v == "fail" and c.get("evidence"):
        e, s = c["evidence"], c["evidence"].get("server")
        # The server's FIN first: what it received is the question.
        if s and not s["digest_ok"] and (e["received"] == e["sent"] or
                                         c["direction"].startswith("server")):
            return f"fail: server got {s['received']:,} of {e['sent']:,} B"
        if c["data"] == "pass":
            if c.get("pattern") == "upstream-left-open":
                return "fail: server side left open"
            return f"fail: the close ({e['end']})"
        return f"fail: {e['received']:,} of {e['sent']:,} B back, {e['end']}"
    return v
ids = []
for r in rows:
    for c in r["probe"].get("cases", []):
        if c["id"] not in ids:
            ids.append(c["id"])
lines = ["| relay | configuration | " + " | ".join(ids) + " | result |",
         "| --- | --- | " + " | ".join("---" for _ in ids) + " | --- |"]
for r in rows:
    p = r["probe"]
    if "error" in p:
        lines.append(f"| {r['relay']} | {r['configuration']} | " +
                     " | ".join("" for _ in ids) + f" | {p['error']} |")
        continue
    by = {c["id"]: c for c in p["cases"]}
    cells = [cell(by[i]) if i in by else "" for i in ids]
    cells = [f"**{x}**" if x.startswith(("fail", "inconclusive")) else x
             for x in cells]
    lines.append(f"| {r['relay']} | {r['configuration']} | " +
                 " | ".join(cells) + f" | {p['result']} |")
# What fixes each pattern a row shows, in that relay (upcase(1), PATTERNS).
KEEPS = ("use a relay that keeps half-close: HAProxy, nginx with "
         "proxy_half_close on, socat -t 30, ssh -L, spiped, stone, Dante, "
         "kernel NAT")
FIX = {
    ("nginx-off", "closes-both-ways"): "`proxy_half_close on;`",
    ("haproxy-fin", "timer-after-fin"):
        "raise `timeout client-fin` and `timeout server-fin`, or leave them "
        "unset (they inherit `timeout client` and `timeout server`)",
    ("socat", "timer-after-fin"):
        "`-t N`, N above the longest reply after a FIN (0.5 s by default)",
    ("socat-shut-none", "closes-both-ways"): "drop `shut-none`",
    ("socat-shut-none", "timer-after-fin"):
        "drop `shut-none`: the FIN then passes at once",
    ("haproxy*", "closes-both-ways"):
        "no setting found: under a slow reader (FL4) HAProxy 2.6 now and "
        "then half-closes its server side with client bytes unread, then "
        "resets the client",
    ("stunnel", "closes-both-ways"):
        "no setting found (`TIMEOUTclose = 0` does not help): once the "
        "server has closed, stunnel drops what it still holds for a slow "
        "client",
}
DEFAULT = {
    "closes-both-ways": "no setting: " + KEEPS,
    "timer-after-fin": "raise the relay's timeout after a FIN",
    "reset-as-fin": "no setting (non-strict): let the protocol above TCP "
                    "say where a reply ends",
    "upstream-left-open": "bound it with the relay's idle timeout",
    "stall": "no setting: use another relay",
}
fixes = []
for r in rows:
    found = {}
    for c in r["probe"].get("cases", []):
        if c.get("pattern") and c["verdict"] in ("fail", "non-strict"):
            found.setdefault(c["pattern"], []).append(c["id"])
    for pat, ids_ in found.items():
        fix = FIX.get((r["setup"], pat)) or \
            FIX.get((r["setup"].split("-")[0] + "*", pat)) or \
            DEFAULT.get(pat, "")
        fixes.append(f"| {r['relay']} | {r['configuration']} | {pat} | "
                     f"{', '.join(ids_)} | {fix} |")
fix_md = ("\n\n## What fixes it\n\nEach pattern a row's failing or "
          "non-strict cases match, and the setting that fixes it in that "
          "relay (upcase(1), PATTERNS):\n\n| relay | configuration | "
          "pattern | cases | fix |\n| --- | --- | --- | --- | --- |\n" +
          "\n".join(fixes))
stamp = datetime.datetime.utcnow().strftime("%Y-%m-%d")
md = ("# upcase probe through the relays Debian ships\n\n"
      f"Generated by `make matrix` on {stamp}: each relay on loopback in "
      "front of one probe listener (`drain_timeout` and `idle_timeout` "
      "5m; the two relays that send PROXY headers in front of its twin "
      "that reads them), `upcase probe --idle 2s`, each case straight at "
      "the listener "
      "first (`--direct`), all at once. The cases are in "
      "`upcase probe --list` and upcase(1); the evidence of every cell "
      "is in matrix.json.\n\n" + "\n".join(lines) + fix_md + "\n")
open(os.path.join(out, "matrix.md"), "w").write(md)
# The README's copy, between its markers: the same table, never by hand.
readme = open("README.md").read()
a, b = "<!-- matrix -->\n", "<!-- /matrix -->"
if a in readme and b in readme:
    head, rest = readme.split(a, 1)
    readme = head + a + "\n".join(lines) + "\n" + b + rest.split(b, 1)[1]
    open("README.md", "w").write(readme)
json.dump({"generated": stamp, "rows": rows},
          open(os.path.join(out, "matrix.json"), "w"), indent=1)
print(md)
PY
