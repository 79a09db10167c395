#!/usr/bin/env python3
"""Submits one large message to `mox localserve` (port 1587, STARTTLS, mox@localhost) and samples
the server's resident memory every 10 ms meanwhile; prints the peak above the idle figure read
just before. A small message goes first, so the code that receives and stores mail is resident in
the idle figure (as in a server that has run for a while). Used by scripts/bench-smtp."""

import argparse
import smtplib
import ssl
import threading
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--size", type=int, default=64 * 1024 * 1024)
    args = p.parse_args()
    head = b"From: <mox@localhost>\r\nTo: <big@example.org>\r\nSubject: large\r\n\r\n"
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?-_+=()[]{}<>\r\n"
    msg = head + line * ((args.size - len(head)) // len(line))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def send(data):
        s = smtplib.SMTP("127.0.0.1", 1587, timeout=600)
        s.starttls(context=ctx)
        s.login("mox@localhost", "moxmoxmox")
        s.sendmail("mox@localhost", ["big@example.org"], data)
        s.quit()

    send(head + line * 100)
    time.sleep(1)
    idle = rss_kb(args.pid)
    peak = [idle]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kb(args.pid))
            time.sleep(0.01)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    started = time.monotonic()
    send(msg)
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    stop.set()
    t.join()
    print(f"message {len(msg)} bytes in {elapsed:.2f} s; idle {idle / 1024:.1f} MiB, peak {peak[0] / 1024:.1f} MiB")
    print(f"peak above idle {(peak[0] - idle) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
