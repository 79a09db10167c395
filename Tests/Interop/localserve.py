"""A `mox localserve` in a fresh temporary directory, for the interop tests that need one of their own.

Starts the built debug binary, waits until its ports accept connections, and stops it with SIGTERM
(checking that it exits 0); the directory is removed afterwards. Also measures the server's memory.
"""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST = "127.0.0.1"
USER = "mox@localhost"
PASSWORD = "moxmoxmox"
PORTS = {"smtp": 1025, "submission": 1587, "submissions": 1465, "imap": 1143, "imaps": 1993}


def bin_path():
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


MOX = os.path.join(bin_path(), "mox")


def tls_context():
    # localserve uses a self-signed certificate for "localhost".
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Localserve:
    def __init__(self, extra_args=(), ports=("smtp", "submission", "submissions", "imap", "imaps"), prepare=None):
        """prepare, when given, is called with the config directory after `-initonly` wrote it and
        before the server starts, e.g. to change mox.conf."""
        for name in ports:
            try:
                socket.create_connection((HOST, PORTS[name]), timeout=2).close()
            except OSError:
                continue
            raise RuntimeError(f"port {HOST}:{PORTS[name]} is already in use; cannot start localserve")
        self.base = tempfile.mkdtemp(prefix="mox-interop-")
        self.dir = os.path.join(self.base, "localserve")
        self.logpath = os.path.join(self.base, "localserve.log")
        if prepare is not None:
            subprocess.run([MOX, "localserve", "-dir", self.dir, "-initonly"], check=True, capture_output=True)
            prepare(self.dir)
        self.log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(
            [MOX, "localserve", "-dir", self.dir, *extra_args],
            # The workdir WebHandler serves the working directory: the config directory here.
            cwd=self.dir if os.path.isdir(self.dir) else None,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        pending = {PORTS[name] for name in ports}
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mox localserve exited with {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"mox localserve did not listen on {sorted(pending)} within 60s:\n{self.output()}")
            for port in sorted(pending):
                try:
                    socket.create_connection((HOST, port), timeout=2).close()
                    pending.discard(port)
                except OSError:
                    pass
            if pending:
                time.sleep(0.2)

    def output(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def spool_files(self):
        """Files left in the data directory's tmp folder (messages being received)."""
        d = os.path.join(self.dir, "tmp")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def stop(self):
        """SIGTERM, then the exit code and the output."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"mox localserve did not stop within 30s after SIGTERM:\n{self.output()}")
        self.log.close()
        return code, self.output()

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def cleanup(self):
        self.kill()
        if not self.log.closed:
            self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)


class PeakRSS:
    """Samples a process's resident memory every 20 ms while in a with block; `peak_kb` is the highest."""

    def __init__(self, server):
        self.server = server
        self.peak_kb = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.peak_kb = self.server.rss_kb()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.server.rss_kb())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, self.server.rss_kb())
