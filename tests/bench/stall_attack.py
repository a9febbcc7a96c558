# stall_attack.py PORT METRICS_PORT N PID: N clients with a 4 KiB receive
# buffer each push 1 MiB to upcased on 127.0.0.1:PORT and never read;
# then it prints the daemon's (PID) resident memory growth, what it owes
# and how many it closed (its metrics on 127.0.0.2:METRICS_PORT), and how
# long a reader's 64 MiB round trip takes beside them. BENCHMARKS.md's
# backlog_total figures. A measurement, not a test.
import socket, sys, time, urllib.request, os, re
port, mport, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pid = int(sys.argv[4])
def rss():
    for l in open(f'/proc/{pid}/status'):
        if l.startswith('VmRSS:'): return int(l.split()[1])
def metric(name):
    m = urllib.request.urlopen(f'http://127.0.0.2:{mport}/metrics').read().decode()
    for l in m.splitlines():
        if l.startswith(name + ' ') or l.startswith(name + '{'):
            return float(l.split()[-1])
    return 0
before = rss()
socks = []
for i in range(n):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(('127.0.0.1', port)); s.setblocking(False); socks.append([s, 0])
chunk = b'a' * 65536
t0 = time.time()
while time.time() - t0 < 20:
    moved = 0
    for e in socks:
        if e[1] >= 1 << 20 or e[0] is None: continue
        try:
            k = e[0].send(chunk[:min(65536, (1 << 20) - e[1])]); e[1] += k; moved += k
        except BlockingIOError: pass
        except OSError: e[0] = None
    if moved == 0: break
time.sleep(1)
peak = rss()
sheds = metric('upcased_connections_closed_total{reason="backlog_total"}')
owed = metric('upcased_owed_bytes')
# a reader meanwhile
r = socket.create_connection(('127.0.0.1', port)); data = b'x' * (64 << 20)
t1 = time.time(); r.setblocking(True)
import threading
got = [0]
def rd():
    while True:
        x = r.recv(1 << 20)
        if not x: break
        got[0] += len(x)
th = threading.Thread(target=rd); th.start(); r.sendall(data); r.shutdown(1); th.join()
print(f"n={n} sent={sum(e[1] for e in socks)>>20} MiB rss_growth={(peak-before)//1024} MiB owed={owed/2**20:.1f} MiB sheds={sheds:.0f} reader_64MiB={time.time()-t1:.2f}s ok={got[0]==len(data)}")
