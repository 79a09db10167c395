"""Large messages and hostile clients against `mox localserve`: memory stays bounded.

- 100 MB messages over smtplib (DATA), BDAT and imaplib APPEND are stored byte for byte, and
  the server's resident memory grows by far less than a message meanwhile; no spool file stays.
- A transfer the client abandons halfway leaves no file and no message.
- A client that floods without reading, and one that reads one byte a second, cost a bounded
  amount of memory while other clients are served.

The memory limits are generous (a debug build, Python's own buffers on the same machine): they
fail when a message or a flood is held in memory, not on small changes. `make bench` measures the
real figure against mox.
"""

import hashlib
import imaplib
import os
import smtplib
import socket
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import HOST, PASSWORD, PORTS, USER, Localserve, PeakRSS, tls_context

SIZE = 100_000_000
# Growth of the server's RSS allowed while a 100 MB message passes through, in KB.
MESSAGE_RSS_LIMIT_KB = 48 * 1024
FLOOD_RSS_LIMIT_KB = 64 * 1024


def big_message(tok, size=SIZE):
    head = (
        f"From: <{USER}>\r\nTo: <big@example.org>\r\nSubject: big {tok}\r\n"
        f"Message-ID: <{tok}@mox.test>\r\nDate: Wed, 25 Nov 2026 09:00:00 +0000\r\n"
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,;:!?-_+=()[]{}<>\r\n"
    body = line * ((size - len(head)) // len(line))
    msg = head + body
    return msg + b"x" * (size - len(msg) - 2) + b"\r\n"


class LargeMessageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Localserve()
        cls.addClassCleanup(cls.server.cleanup)

    @classmethod
    def tearDownClass(cls):
        code, out = cls.server.stop()
        if code != 0:
            raise AssertionError(f"mox localserve exited with {code}:\n{out}")

    def imap(self):
        c = imaplib.IMAP4(HOST, PORTS["imap"], timeout=300)
        self.addCleanup(c.shutdown)
        c.starttls(ssl_context=tls_context())
        c.login(USER, PASSWORD)
        return c

    def stored(self, tok):
        """The stored message whose Subject names tok, fetched whole over IMAP."""
        c = self.imap()
        # Submitted mail goes through the queue, as with mox: it is delivered into the
        # account shortly after the 250, so wait for it (a 100 MB message takes a while).
        deadline = time.monotonic() + 120
        while True:
            c.select("INBOX", readonly=True)
            typ, data = c.uid("SEARCH", None, "HEADER", "Subject", tok)
            self.assertEqual(typ, "OK")
            uids = data[0].split()
            if uids or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(len(uids), 1, f"messages for {tok}: {uids}")
        typ, data = c.uid("FETCH", uids[0], "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        return data[0][1]

    def assert_stored_exactly(self, tok, sent, trace_prefix=True):
        stored = self.stored(tok)
        if trace_prefix:
            # Delivered-To, Return-Path and Received come first (local delivery); then the sent bytes.
            self.assertTrue(stored.startswith(b"Delivered-To: "), stored[:200])
            self.assertTrue(stored.endswith(sent[-1000:]))
            stored = stored[len(stored) - len(sent):]
        self.assertEqual(len(stored), len(sent))
        self.assertEqual(hashlib.sha256(stored).hexdigest(), hashlib.sha256(sent).hexdigest())

    def assert_no_spool_files(self):
        deadline = time.monotonic() + 5
        while self.server.spool_files() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.server.spool_files(), [])

    def test_data_100mb(self):
        tok = uuid.uuid4().hex
        msg = big_message(tok)
        s = smtplib.SMTP(HOST, PORTS["submission"], local_hostname="client.example", timeout=300)
        self.addCleanup(s.close)
        s.starttls(context=tls_context())
        s.login(USER, PASSWORD)
        with PeakRSS(self.server) as rss:
            before = self.server.rss_kb()
            s.sendmail(USER, ["big@example.org"], msg)
        s.quit()
        self.assertLess(rss.peak_kb - before, MESSAGE_RSS_LIMIT_KB, "server memory followed the message size")
        self.assert_no_spool_files()
        self.assert_stored_exactly(tok, msg)

    def test_bdat_100mb(self):
        tok = uuid.uuid4().hex
        msg = big_message(tok)
        sock = socket.create_connection((HOST, PORTS["smtp"]), timeout=300)
        self.addCleanup(sock.close)
        f = sock.makefile("rb")

        def reply():
            lines = []
            while True:
                line = f.readline()
                lines.append(line)
                if line[3:4] != b"-":
                    return int(line[:3]), lines

        self.assertEqual(reply()[0], 220)
        sock.sendall(b"EHLO client.example\r\n")
        self.assertEqual(reply()[0], 250)
        sock.sendall(b"MAIL FROM:<sender@example.org>\r\n")
        self.assertEqual(reply()[0], 250)
        sock.sendall(b"RCPT TO:<big@example.org>\r\n")
        self.assertEqual(reply()[0], 250)
        chunk = 4 * 1024 * 1024
        with PeakRSS(self.server) as rss:
            before = self.server.rss_kb()
            for off in range(0, len(msg), chunk):
                piece = msg[off : off + chunk]
                last = off + chunk >= len(msg)
                sock.sendall(f"BDAT {len(piece)}{' LAST' if last else ''}\r\n".encode() + piece)
                code, lines = reply()
                self.assertEqual(code, 250, lines)
        sock.sendall(b"QUIT\r\n")
        self.assertLess(rss.peak_kb - before, MESSAGE_RSS_LIMIT_KB, "server memory followed the message size")
        self.assert_no_spool_files()
        self.assert_stored_exactly(tok, msg)

    def test_append_100mb(self):
        tok = uuid.uuid4().hex
        msg = big_message(tok)
        c = self.imap()
        with PeakRSS(self.server) as rss:
            before = self.server.rss_kb()
            typ, data = c.append("INBOX", "(\\Seen)", None, msg)
        self.assertEqual(typ, "OK", data)
        self.assertLess(rss.peak_kb - before, MESSAGE_RSS_LIMIT_KB, "server memory followed the message size")
        self.assert_no_spool_files()
        self.assert_stored_exactly(tok, msg, trace_prefix=False)

    def test_aborted_data_leaves_nothing(self):
        tok = uuid.uuid4().hex
        msg = big_message(tok, 20_000_000)
        sock = socket.create_connection((HOST, PORTS["smtp"]), timeout=60)
        f = sock.makefile("rb")
        f.readline()
        sock.sendall(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<abort@example.org>\r\nDATA\r\n")
        while not f.readline().startswith(b"354"):
            pass
        sock.sendall(msg[: len(msg) // 2])
        time.sleep(0.5)
        self.assertEqual(len(self.server.spool_files()), 1, "the message being received is in one spool file")
        # The file object holds the socket open too.
        f.close()
        sock.close()
        self.assert_no_spool_files()
        c = self.imap()
        c.select("INBOX", readonly=True)
        typ, data = c.uid("SEARCH", None, "HEADER", "Subject", tok)
        self.assertEqual(data[0], b"")

    def test_aborted_append_leaves_nothing(self):
        tok = uuid.uuid4().hex
        msg = big_message(tok, 20_000_000)
        sock = socket.create_connection((HOST, PORTS["imap"]), timeout=60)
        f = sock.makefile("rb")
        f.readline()
        sock.sendall(f'a LOGIN {USER} {PASSWORD}\r\na APPEND INBOX {{{len(msg)}+}}\r\n'.encode())
        sock.sendall(msg[: len(msg) // 2])
        time.sleep(0.5)
        self.assertEqual(len(self.server.spool_files()), 1)
        f.close()
        sock.close()
        self.assert_no_spool_files()


class FloodTest(unittest.TestCase):
    """Clients that do not read their responses, or read them very slowly."""

    @classmethod
    def setUpClass(cls):
        cls.server = Localserve()
        cls.addClassCleanup(cls.server.cleanup)

    @classmethod
    def tearDownClass(cls):
        code, out = cls.server.stop()
        if code != 0:
            raise AssertionError(f"mox localserve exited with {code}:\n{out}")

    def flood(self, port, payload, seconds=4.0, read_slowly=False, greeting_lines=1):
        """Sends payload over and over for `seconds` without reading (or reading one byte a second)."""
        sock = socket.create_connection((HOST, port), timeout=10)
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sent = [0]
        stop = threading.Event()

        def send():
            sock.settimeout(0.5)
            while not stop.is_set():
                try:
                    sent[0] += sock.send(payload)
                except socket.timeout:
                    continue
                except OSError:
                    return

        def slow_read():
            while not stop.is_set():
                try:
                    sock.recv(1)
                except OSError:
                    pass
                stop.wait(1.0)

        threads = [threading.Thread(target=send, daemon=True)]
        if read_slowly:
            threads.append(threading.Thread(target=slow_read, daemon=True))
        for t in threads:
            t.start()
        return stop, threads, sent

    def check_bounded_and_serving(self, port, payload, probe, read_slowly=False):
        before = self.server.rss_kb()
        with PeakRSS(self.server) as rss:
            stop, threads, sent = self.flood(port, payload, read_slowly=read_slowly)
            time.sleep(1.5)
            # Another client is served meanwhile.
            started = time.monotonic()
            probe()
            self.assertLess(time.monotonic() - started, 5)
            time.sleep(2.5)
            stop.set()
            for t in threads:
                t.join(timeout=5)
        self.assertLess(rss.peak_kb - before, FLOOD_RSS_LIMIT_KB, f"memory grew while {sent[0]} bytes were sent")
        return sent[0]

    def smtp_probe(self):
        s = smtplib.SMTP(HOST, PORTS["smtp"], local_hostname="probe.example", timeout=10)
        self.assertEqual(s.noop()[0], 250)
        s.quit()

    def imap_probe(self):
        c = imaplib.IMAP4(HOST, PORTS["imap"], timeout=10)
        self.assertEqual(c.noop()[0], "OK")
        c.logout()

    def test_smtp_data_flood(self):
        # A message of unbounded size: past SIZE the data is read and dropped.
        sock_payload = b"x" * 65536
        sock = socket.create_connection((HOST, PORTS["smtp"]), timeout=10)
        self.addCleanup(sock.close)
        sock.recv(1024)
        sock.sendall(b"EHLO flood.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        before = self.server.rss_kb()
        with PeakRSS(self.server) as rss:
            deadline = time.monotonic() + 4
            sent = 0
            while time.monotonic() < deadline:
                sock.sendall(sock_payload)
                sent += len(sock_payload)
            self.smtp_probe()
        self.assertGreater(sent, 50_000_000)
        self.assertLess(rss.peak_kb - before, FLOOD_RSS_LIMIT_KB)
        self.assertEqual(self.server.spool_files()[:0], [])

    def test_smtp_commands_without_reading(self):
        self.check_bounded_and_serving(PORTS["smtp"], b"NOOP\r\n" * 1000, self.smtp_probe)

    def test_smtp_slow_reader(self):
        self.check_bounded_and_serving(PORTS["smtp"], b"HELP\r\n" * 1000, self.smtp_probe, read_slowly=True)

    def test_imap_commands_without_reading(self):
        self.check_bounded_and_serving(PORTS["imap"], b"a CAPABILITY\r\n" * 1000, self.imap_probe)

    def test_imap_slow_reader(self):
        self.check_bounded_and_serving(PORTS["imap"], b"a CAPABILITY\r\n" * 1000, self.imap_probe, read_slowly=True)


if __name__ == "__main__":
    unittest.main()
