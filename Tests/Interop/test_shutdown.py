"""Stopping `mox localserve` with SIGTERM while a 10 MB message is being sent.

The transaction under way may finish within the grace period: the client then gets 250 and the
message is in the store, or (when it does not finish in time) 421 and the message is not. Either
way nothing is half-written, the process exits 0, and IMAP clients get a BYE.
"""

import imaplib
import os
import signal
import socket
import sqlite3
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import HOST, PASSWORD, PORTS, USER, Localserve
from test_large import big_message


def stored_count(directory):
    """How many messages the store committed for the account."""
    db = sqlite3.connect(f"file:{os.path.join(directory, 'accounts', 'mox', 'index.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM message WHERE expunged = 0").fetchone()[0]
    finally:
        db.close()


class ShutdownTest(unittest.TestCase):
    def send_during_shutdown(self, pause):
        """Sends 10 MB over DATA, with SIGTERM after the first half; `pause` seconds between the
        halves. Returns the final reply line and the number of stored messages."""
        server = Localserve()
        self.addCleanup(server.cleanup)
        tok = uuid.uuid4().hex
        msg = big_message(tok, 10_000_000)
        sock = socket.create_connection((HOST, PORTS["smtp"]), timeout=60)
        self.addCleanup(sock.close)
        f = sock.makefile("rb")
        self.addCleanup(f.close)
        f.readline()
        sock.sendall(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<shutdown@example.org>\r\nDATA\r\n")
        while not f.readline().startswith(b"354"):
            pass
        imap = imaplib.IMAP4(HOST, PORTS["imap"], timeout=30)
        self.addCleanup(imap.shutdown)
        imap.login(USER, PASSWORD)
        imap.select("INBOX")
        sock.sendall(msg[: len(msg) // 2])
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(pause)
        try:
            sock.sendall(msg[len(msg) // 2 :] + b".\r\n")
            reply = f.readline()
            after = f.readline()
        except OSError as e:
            reply, after = b"", str(e).encode()
        # An IMAP session is told the server goes away.
        bye = imap.readline()
        code = server.proc.wait(timeout=30)
        self.assertEqual(code, 0, server.output())
        return reply, after, bye, stored_count(server.dir)

    def test_transaction_finishes_within_the_grace_period(self):
        reply, after, bye, stored = self.send_during_shutdown(0.2)
        self.assertTrue(reply.startswith(b"250 "), reply)
        self.assertTrue(after.startswith(b"421 "), after)
        self.assertEqual(stored, 1)
        self.assertTrue(bye.startswith(b"* BYE"), bye)

    def test_transaction_too_slow_is_refused_and_absent(self):
        reply, after, bye, stored = self.send_during_shutdown(4.5)
        self.assertFalse(reply.startswith(b"250"), reply)
        if reply:
            self.assertTrue(reply.startswith(b"421 "), reply)
        self.assertEqual(stored, 0)


if __name__ == "__main__":
    unittest.main()
