"""soak_clients.py — the misbehaving clients of make soak, for a duration:

  slowloris  connections that trickle one byte a second, half-close after
             ten and check their echo (a wrong or short one is an error);
  stallers   connections that send until the socket takes no more and
             never read, until the daemon's timeout closes them;
  floods     every few seconds, from 127.0.0.50, more connections at once
             than max_connections_per_ip lets in; the rest are refused.

usage: soak_clients.py HOST:PORT SECONDS  (prints one summary line)
"""
import errno
import selectors
import socket
import sys
import time

SLOW, STALLERS, FLOOD, FLOOD_EVERY = 100, 10, 600, 3.0


def connect(addr, source=None):
    s = socket.socket()
    if source:
        s.bind((source, 0))
    s.setblocking(False)
    try:
        s.connect(addr)
    except BlockingIOError:
        pass
    return s


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    addr, end = (host, int(port)), time.monotonic() + float(sys.argv[2])
    sel = selectors.DefaultSelector()
    stats = dict(slow_done=0, slow_errors=0, stalls=0, flood=0, refused=0)

    def slow_start():
        s = connect(addr)
        st = {"kind": "slow", "sent": 0, "got": b"", "next": time.monotonic()}
        sel.register(s, selectors.EVENT_READ, st)

    def stall_start():
        s = connect(addr)
        sel.register(s, selectors.EVENT_WRITE, {"kind": "stall"})

    for _ in range(SLOW):
        slow_start()
    for _ in range(STALLERS):
        stall_start()
    next_flood = time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_flood:
            flood = [connect(addr, "127.0.0.50") for _ in range(FLOOD)]
            stats["flood"] += FLOOD
            time_limit = now + 30
            pending = list(flood)
            # A refused one is closed at once; a taken one stays silent.
            while pending and time.monotonic() < min(time_limit, now + 2):
                ready = selectors.DefaultSelector()
                for s in pending:
                    ready.register(s, selectors.EVENT_READ)
                for key, _ in ready.select(0.2):
                    try:
                        data = key.fileobj.recv(1)
                    except OSError:
                        data = b""
                    if data == b"":
                        stats["refused"] += 1
                        pending.remove(key.fileobj)
                ready.close()
            for s in flood:
                s.close()
            next_flood = time.monotonic() + FLOOD_EVERY
        for key, ev in sel.select(0.1):
            s, st = key.fileobj, key.data
            if st["kind"] == "stall":
                try:
                    while True:
                        s.send(b"x" * 65536)
                except BlockingIOError:
                    pass
                except OSError:  # the daemon's timeout closed it
                    sel.unregister(s)
                    s.close()
                    stats["stalls"] += 1
                    stall_start()
                continue
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = None
            if data:
                st["got"] += data
                continue
            want = bytes(ord("A") + i % 26 for i in range(st["sent"]))
            if data is None or st["sent"] < 10 or st["got"] != want:
                stats["slow_errors"] += 1
                print("slowloris: got %r after %d bytes sent"
                      % (st["got"], st["sent"]), file=sys.stderr)
            else:
                stats["slow_done"] += 1
            sel.unregister(s)
            s.close()
            slow_start()
        now = time.monotonic()
        for key in list(sel.get_map().values()):
            st = key.data
            if st["kind"] == "slow" and st["sent"] < 10 and now >= st["next"]:
                try:
                    key.fileobj.send(bytes([ord("a") + st["sent"] % 26]))
                    st["sent"] += 1
                    st["next"] = now + 1.0
                    if st["sent"] == 10:
                        key.fileobj.shutdown(socket.SHUT_WR)
                except BlockingIOError:
                    pass
                except OSError as e:
                    if e.errno != errno.ENOTCONN:
                        st["sent"] = -100  # counted as an error at EOF
    print("soak_clients: slowloris %(slow_done)d exchanges, %(slow_errors)d "
          "errors; stallers %(stalls)d closed by the daemon; floods "
          "%(flood)d connects, %(refused)d refused" % stats)
    return 1 if stats["slow_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
