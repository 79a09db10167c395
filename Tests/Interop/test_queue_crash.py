"""SIGKILL of `mox serve` while its queue delivers 1,000 messages to a sink (aiosmtpd): after
a restart every message is delivered, none lost, and a message is delivered twice only when
the process died between the sink's 250 and the queue recording it, so duplicates are at most
the transactions whose results were not yet committed: per connection (10 at a time) the one
under way and the one before it, whose commit runs while the next is sent.

An attempt is recorded before it starts, with its next attempt 7.5 minutes later (as mox), so
messages cut off by the kill wait for that; the test asks for them at once with
`mox queue schedule -now 0s`, as an operator would.

Run by `make test`: python3 -m unittest discover -s Tests/Interop -v
"""

import asyncio
import collections
import os
import shutil
import smtplib
import socket
import tempfile
import threading
import time
import unittest

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pragma: no cover - make test-deps installs it
    Controller = None

import serve_helper
from test_serve import tls_context
from test_queue import DOMAINS_CONF, queue_conf

SMTP_PORT, SUBMISSION_PORT, SINK_PORT = 10225, 10787, 10299
COUNT = 1000


class CountingSink:
    def __init__(self):
        self.seen = collections.Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        # A little work per message, so the kill lands while deliveries are under way.
        await asyncio.sleep(0.003)
        for line in envelope.content.split(b"\n"):
            if line.startswith(b"Subject: crash-"):
                with self.lock:
                    self.seen[line.strip().decode()] += 1
        return "250 2.0.0 stored"

    def count(self):
        with self.lock:
            return len(self.seen), sum(self.seen.values())


@unittest.skipIf(Controller is None, "aiosmtpd not installed (make test-deps)")
class QueueCrashTest(unittest.TestCase):
    def setUp(self):
        for port in (SMTP_PORT, SUBMISSION_PORT, SINK_PORT):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    self.skipTest(f"port {port} is in use")
        self.sink = CountingSink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=SINK_PORT)
        self.controller.start()
        self.addCleanup(self.controller.stop)
        self.dir = tempfile.mkdtemp(prefix="mox-queue-crash-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        conf = queue_conf(SMTP_PORT, SUBMISSION_PORT, SINK_PORT, log_level="info")
        self.config = serve_helper.write_config(self.dir, conf, DOMAINS_CONF)
        self.mox("setaccountpassword", "mjl", stdin="secret123\n")
        self.server = serve_helper.Server(self.config, os.path.join(self.dir, "server.log"), "127.0.0.1", SUBMISSION_PORT)
        self.addCleanup(self.server.stop)
        self.addCleanup(self.server.kill)

    def mox(self, *args, stdin=None):
        return serve_helper.mox(self.config, *args, stdin=stdin)

    def test_sigkill_during_delivery_loses_nothing(self):
        # Everything waits until all 1,000 are queued.
        self.mox("queue", "holdrules", "add")
        with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT) as s:
            s.starttls(context=tls_context())
            s.login("mjl@example.org", "secret123")
            for i in range(COUNT):
                msg = f"From: mjl@example.org\r\nSubject: crash-{i}\r\n\r\nmessage {i}\r\n".encode()
                s.sendmail("mjl@example.org", [f"r{i}@d{i % 10}.example"], msg)
        rule = self.mox("queue", "holdrules", "list").splitlines()[1].split()[1].rstrip(":")
        self.mox("queue", "holdrules", "remove", rule)
        self.mox("queue", "unhold")
        deadline = time.time() + 60
        while self.sink.count()[0] < 150:
            self.assertLess(time.time(), deadline, "deliveries did not start")
            time.sleep(0.01)
        self.server.kill()
        before = self.sink.count()
        self.assertLess(before[0], COUNT, "all delivered before the kill; nothing was tested")
        self.server.start()
        self.mox("queue", "schedule", "-now", "0s")
        deadline = time.time() + 180
        while self.sink.count()[0] < COUNT:
            if time.time() > deadline:
                self.fail(f"delivered {self.sink.count()} of {COUNT}; queue: {self.mox('queue', 'list')[:2000]}")
            time.sleep(0.1)
        distinct, total = self.sink.count()
        self.assertEqual(distinct, COUNT)
        duplicates = total - distinct
        # At most two transactions per connection, 10 connections.
        self.assertLessEqual(duplicates, 20, f"{duplicates} duplicates")
        if os.environ.get("MOX_TEST_VERBOSE"):
            print(f"\n{before[0]} delivered before SIGKILL, {duplicates} duplicates after restart")
        self.assertIn("(none)", self.mox("queue", "list"))


if __name__ == "__main__":
    unittest.main()
