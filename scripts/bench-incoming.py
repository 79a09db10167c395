#!/usr/bin/env python3
"""Benchmark: incoming SMTP with every mail authentication check on, against the same server with
none (issue #14). Run by scripts/bench-auth; alone: `python3 scripts/bench-incoming.py`.

`mox serve` (release build) receives 1 KB messages on its SMTP port from 8 connections on
127.0.0.1, each connection pipelining MAIL, RCPT and DATA. Each message is signed by dkimpy with
an RSA-2048 key of sender.example, whose zones nsd (Debian) serves on 127.0.0.158: SPF
(ip4:127.0.0.1 -all), DKIM, DMARC p=reject, the PTR and A records for iprev, and a DNSBL zone in
the listener's DNSBLs. So each message costs iprev, SPF, DKIM, DMARC and a DNSBL lookup, with the
resolver's cache warm after the first messages, as on a server that gets mail from a sender
again and again.

"Checks off" is the baseline binary: BASELINE=/path/to/mox, or by default commit 0cd8da2 (the
last before incoming mail was checked; it parses the same configuration and ignores DNSBLs),
cloned from this repository and built the same way into ~/.cache/mox-bench-baseline-0cd8da2
(kept for the next run). The two servers alternate in 5 runs, each on a fresh data directory
(on tmpfs, /dev/shm, unless BENCH_INCOMING_DIR names a directory); the reported figure is the median. Needs root (port 53 for nsd), nsd, openssl and dkimpy.
"""

import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Interop"))
import nsd  # noqa: E402

try:
    import dkim
except ImportError:
    sys.exit("bench-incoming: dkimpy is not installed (make bench-deps)")

NSD_IP = "127.0.0.158"
SMTP_PORT = 12025
BASELINE_COMMIT = "0cd8da2"
CONNECTIONS = 8
MESSAGES = int(os.environ.get("BENCH_INCOMING", "2000"))
WARMUP = 40
RUNS = 5

MOX_CONF = f"""DataDir: data
LogLevel: info
User: {os.getuid()}
Hostname: mail.example.org
Listeners:
	public:
		IPs:
			- 127.0.0.1
		TLS:
			KeyCerts:
				-
					CertFile: localhost.crt
					KeyFile: localhost.key
		SMTP:
			Enabled: true
			Port: {SMTP_PORT}
			DNSBLs:
				- bl.test
Postmaster:
	Account: mjl
	Mailbox: Postmaster
"""

DOMAINS_CONF = """Domains:
	example.org: nil
Accounts:
	mjl:
		Domain: example.org
		Destinations:
			mjl@example.org: nil
"""


def zone(origin, body):
    return (f"$ORIGIN {origin}.\n$TTL 3600\n@\tIN SOA ns.sender.example. hostmaster.sender.example. 1 3600 600 86400 3600\n"
            f"@\tIN NS ns.sender.example.\n" + body)



def build_this():
    subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "-Xlinker", "-no-pie", "--product", "mox"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    return os.path.join(out, "mox")


def build_baseline():
    if os.environ.get("BASELINE"):
        return os.environ["BASELINE"]
    tree = os.path.join(os.path.expanduser("~"), ".cache", f"mox-bench-baseline-{BASELINE_COMMIT}")
    if not os.path.isdir(os.path.join(tree, ".git")):
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", ROOT, tree], check=True)
        subprocess.run(["git", "-C", tree, "checkout", "-q", BASELINE_COMMIT], check=True)
    print(f"building the baseline ({BASELINE_COMMIT}) in {tree}", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "-Xlinker", "-no-pie", "--product", "mox"],
                   cwd=tree, check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=tree, check=True,
                         capture_output=True, text=True).stdout.strip()
    return os.path.join(out, "mox")


def messages(rsa_key, count, tag):
    out = []
    for i in range(count):
        body = ("Quarterly numbers follow, as discussed.  \r\n" * 22)[:900]
        msg = (f"From: Sender <sender@sender.example>\r\nTo: <mjl@example.org>\r\nSubject: bench {tag} {i}\r\n"
               f"Date: Mon, 7 Dec 2026 09:00:00 +0000\r\nMessage-Id: <bench-{tag}-{i}@sender.example>\r\n"
               f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()
        sig = dkim.sign(msg, b"rsa", b"sender.example", rsa_key, canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"content-type"])
        out.append(sig + msg)
    return out


class Client:
    """One SMTP connection that pipelines each transaction (RFC 2920)."""

    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", SMTP_PORT), timeout=60)
        self.file = self.sock.makefile("rb")
        self.reply()
        self.sock.sendall(b"EHLO mail.sender.example\r\n")
        self.reply()

    def reply(self):
        while True:
            line = self.file.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line[3:4] != b"-":
                return line

    def send(self, message):
        self.sock.sendall(b"MAIL FROM:<sender@sender.example>\r\nRCPT TO:<mjl@example.org>\r\nDATA\r\n")
        for expect in (b"250", b"250", b"354"):
            line = self.reply()
            if not line.startswith(expect):
                raise RuntimeError(f"expected {expect!r}, got {line!r}")
        self.sock.sendall(message + b".\r\n")
        line = self.reply()
        if not line.startswith(b"250"):
            raise RuntimeError(f"message refused: {line!r}")

    def close(self):
        self.sock.sendall(b"QUIT\r\n")
        self.sock.close()


def sender(batch, start, results):
    c = Client()
    start.wait()
    t = time.perf_counter()
    for m in batch:
        c.send(m)
    results.put(time.perf_counter() - t)
    c.close()


def run_load(msgs):
    """Messages per second for `msgs` over CONNECTIONS connections, from the common start to the last 250."""
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    results = ctx.Queue()
    procs = [ctx.Process(target=sender, args=(msgs[i::CONNECTIONS], start, results)) for i in range(CONNECTIONS)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    t = time.perf_counter()
    start.set()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError("a sender failed")
    elapsed = time.perf_counter() - t
    return len(msgs) / elapsed


def start_server(binary, work, name, env):
    d = os.path.join(work, name)
    os.mkdir(d)
    for f in ("localhost.crt", "localhost.key"):
        shutil.copy(os.path.join(work, "init", f), d)
    with open(os.path.join(d, "mox.conf"), "w") as f:
        f.write(MOX_CONF)
    with open(os.path.join(d, "domains.conf"), "w") as f:
        f.write(DOMAINS_CONF)
    log = open(os.path.join(d, "server.log"), "w")
    proc = subprocess.Popen([binary, "-config", os.path.join(d, "mox.conf"), "serve"], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", SMTP_PORT), timeout=1).close()
            return proc, d
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                stop(proc)
                raise RuntimeError(f"{binary} serve did not start: " + open(os.path.join(d, "server.log")).read())
            time.sleep(0.1)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def checked(directory):
    """Whether the server's log shows every check passing, and the DNSBL consulted (healthy),
    for the messages so far. (The Authentication-Results header is kept with the message in
    the account's database, not in its file.)"""
    log = open(os.path.join(directory, "server.log")).read()
    lines = [line for line in log.splitlines() if 'm="message authentication"' in line]
    wanted = ("dkim=pass", "dmarc=pass", "iprev=pass", "spf=pass")
    return bool(lines) and all(all(w in line for w in wanted) for line in lines) and "dnsbl not healthy" not in log


def main():
    if not nsd.available() or not shutil.which("openssl"):
        print("incoming smtp with checks: skipped (needs root, nsd and openssl)")
        return
    for port in (SMTP_PORT,):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                sys.exit(f"bench-incoming: port {port} is in use")
    this = build_this()
    baseline = build_baseline()
    # The data directories go on tmpfs unless BENCH_INCOMING_DIR names another place: on this
    # VM's ext4, creating thousands of message files right after deleting thousands (the runs
    # before) varies by a factor of two from run to run, which drowns the cost of the checks.
    base = os.environ.get("BENCH_INCOMING_DIR") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)
    work = tempfile.mkdtemp(prefix="bench-incoming-", dir=base)
    print(f"data directories under {base or tempfile.gettempdir()}", file=sys.stderr)
    server = None
    try:
        subprocess.run([this, "localserve", "-dir", os.path.join(work, "init"), "-initonly"], check=True,
                       capture_output=True)
        rsa_path = os.path.join(work, "rsa.pem")
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", rsa_path, "2048"], check=True, capture_output=True)
        rsa_key = open(rsa_path, "rb").read()
        pub = subprocess.run(["openssl", "rsa", "-in", rsa_path, "-pubout", "-outform", "DER"], check=True,
                             capture_output=True).stdout
        import base64
        rsa_pub = base64.b64encode(pub).decode()
        nsd_dir = os.path.join(work, "nsd")
        os.mkdir(nsd_dir)
        server = nsd.NSD(nsd_dir, NSD_IP, {
            "sender.example": zone("sender.example", f"ns\tIN A {NSD_IP}\n"
                                   + '@\tIN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                                   + "mail\tIN A 127.0.0.1\n"
                                   + '_dmarc\tIN TXT "v=DMARC1; p=reject"\n'
                                   + f"rsa._domainkey\tIN TXT {nsd.txt('v=DKIM1; k=rsa; p=' + rsa_pub)}\n"),
            "0.0.127.in-addr.arpa": zone("0.0.127.in-addr.arpa", "1\tIN PTR mail.sender.example.\n"),
            "bl.test": zone("bl.test", "2.0.0.127\tIN A 127.0.0.2\n"),
        })
        env = dict(os.environ, MOXRESOLVCONF=server.resolv_conf("bench"))
        print(f"signing {WARMUP + MESSAGES} messages per run with dkimpy", file=sys.stderr)
        rates = {"checks on": [], "checks off": []}
        for run in range(1, RUNS + 1):
            for name, binary in (("checks on", this), ("checks off", baseline)):
                msgs = messages(rsa_key, WARMUP + MESSAGES, f"{run}-{name.replace(' ', '')}")
                proc, d = start_server(binary, work, f"{name.replace(' ', '-')}-{run}", env)
                try:
                    run_load(msgs[:WARMUP])
                    if name == "checks on" and not checked(d):
                        raise RuntimeError("checks on: not every check passed: see " + os.path.join(d, "server.log"))
                    r = run_load(msgs[WARMUP:])
                finally:
                    stop(proc)
                rates[name].append(r)
                print(f"run {run} {name}: {r:,.0f} msgs/s", flush=True)
        on = statistics.median(rates["checks on"])
        off = statistics.median(rates["checks off"])
        print(f"incoming smtp, {MESSAGES} x 1 KB DKIM-signed, {CONNECTIONS} conns: checks on median {on:,.0f} msgs/s "
              f"{sorted(round(x) for x in rates['checks on'])}, checks off (baseline {BASELINE_COMMIT}) median {off:,.0f} "
              f"msgs/s {sorted(round(x) for x in rates['checks off'])}; ratio {on / off:.2f} (target >= 0.80)")
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
