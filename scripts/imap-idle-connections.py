#!/usr/bin/env python3
"""Holds N IMAP connections in IDLE on a loopback server and reports the server's resident memory.

Usage: imap-idle-connections.py --pid PID [-n 1000] [--port 1143] [--smtp 1025]

Each connection logs in (mox localserve's account), selects INBOX and sends IDLE. The server's
VmRSS is read from /proc before the connections are opened and again once all of them idle. Then
one message is delivered over SMTP and every connection must see its EXISTS; the time until the
last one did is reported. Only 127.0.0.1 is used. Prints one line of JSON at the end.
"""

import argparse
import json
import selectors
import smtplib
import socket
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_until(sock, marker, timeout=30):
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        data += chunk
    return data


def open_idle(port, user, password):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    read_until(s, b"\r\n")
    s.sendall(f'a LOGIN "{user}" "{password}"\r\n'.encode())
    if b"a OK" not in read_until(s, b"a "):
        raise RuntimeError("login failed")
    s.sendall(b"b SELECT INBOX\r\n")
    read_until(s, b"b OK")
    s.sendall(b"c IDLE\r\n")
    read_until(s, b"+ ")
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--port", type=int, default=1143)
    ap.add_argument("--smtp", type=int, default=1025)
    ap.add_argument("--user", default="mox@localhost")
    ap.add_argument("--password", default="moxmoxmox")
    a = ap.parse_args()

    before = rss_kb(a.pid)
    t0 = time.time()
    conns = [open_idle(a.port, a.user, a.password) for _ in range(a.n)]
    opened = time.time() - t0
    time.sleep(2)
    idle = rss_kb(a.pid)

    sel = selectors.DefaultSelector()
    for s in conns:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    msg = b"From: <bench@localhost>\r\nTo: <mox@localhost>\r\nSubject: idle fan-out\r\n\r\nhello\r\n"
    start = time.time()
    with smtplib.SMTP("127.0.0.1", a.smtp, timeout=30) as smtp:
        smtp.sendmail("bench@localhost", ["mox@localhost"], msg)
    sent = time.time()
    seen = set()
    deadline = sent + 30
    while len(seen) < len(conns) and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            data = key.fileobj.recv(65536)
            if b"EXISTS" in data:
                seen.add(key.fileobj)
    last = time.time() - sent
    for s in conns:
        try:
            s.setblocking(True)
            s.sendall(b"DONE\r\nd LOGOUT\r\n")
        except OSError:
            pass
        s.close()
    result = {
        "connections": a.n,
        "open_s": round(opened, 2),
        "rss_before_kb": before,
        "rss_idle_kb": idle,
        "rss_added_mb": round((idle - before) / 1024, 1),
        "exists_seen": len(seen),
        "smtp_s": round(sent - start, 3),
        "all_exists_after_250_s": round(last, 3),
    }
    print(f"{a.n} idle connections: {result['rss_added_mb']} MB added resident memory "
          f"({before} -> {idle} kB), opened in {opened:.1f} s; {len(seen)}/{a.n} saw the new message "
          f"within {last:.2f} s of the SMTP 250")
    print("IDLE_JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
