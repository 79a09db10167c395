"""The outgoing queue of `mox serve`, delivering through an SMTP transport to aiosmtpd (PyPI)
scripted per recipient: 250, 550 or 451. Checks delivery in one transaction per domain,
retired history with x-mox-extra data, failure DSNs into the sender's Inbox, suppression
after a permanent failure, hold rules, and `mox queue` commands against the running server.
Listens on 127.0.0.1 with ports above 10000.

Run by `make test`: python3 -m unittest discover -s Tests/Interop -v
"""

import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import unittest

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pragma: no cover - make test-deps installs it
    Controller = None

import serve_helper
from test_serve import MOX, tls_context

SMTP_PORT, SUBMISSION_PORT, SINK_PORT = 10125, 10587 + 100, 10199



def queue_conf(smtp_port, submission_port, sink_port, log_level="debug"):
    """mox.conf with a Transport "sink": the aiosmtpd (or smtp-sink) on loopback."""
    return serve_helper.mox_conf(smtp_port=smtp_port, submission_port=submission_port, log_level=log_level,
                                 extra=f"""Transports:
	sink:
		SMTP:
			Host: localhost
			Port: {sink_port}
			NoSTARTTLS: true
""")


MOX_CONF = queue_conf(SMTP_PORT, SUBMISSION_PORT, SINK_PORT)

DOMAINS_CONF = """Domains:
	example.org:
		LocalpartCatchallSeparator: +
Accounts:
	mjl:
		Domain: example.org
		KeepRetiredMessagePeriod: 24h
		FromIDLoginAddresses:
			- fromid@example.org
		Destinations:
			mjl@example.org: nil
			fromid@example.org: nil
Routes:
	-
		Transport: sink
"""


class Sink:
    """aiosmtpd handler: the recipient's localpart picks the reply (bad550, later451, else 250)."""

    def __init__(self):
        self.envelopes = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("bad550"):
            return "550 5.1.1 no such user here"
        if local.startswith("later451"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 ok"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 stored"

    def find(self, token):
        with self.lock:
            return [e for e in self.envelopes if token.encode() in e[2]]


@unittest.skipIf(Controller is None, "aiosmtpd not installed (make test-deps)")
class QueueTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for port in (SMTP_PORT, SUBMISSION_PORT, SINK_PORT):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    raise unittest.SkipTest(f"port {port} is in use")
        cls.sink = Sink()
        cls.controller = Controller(cls.sink, hostname="127.0.0.1", port=SINK_PORT)
        cls.controller.start()
        cls.addClassCleanup(cls.controller.stop)
        cls.dir = tempfile.mkdtemp(prefix="mox-queue-test-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.config = serve_helper.write_config(cls.dir, MOX_CONF, DOMAINS_CONF)
        cls.mox("config", "test")
        cls.mox("setaccountpassword", "mjl", stdin="secret123\n")
        cls.server = serve_helper.Server(cls.config, os.path.join(cls.dir, "server.log"), "127.0.0.1", SUBMISSION_PORT)
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def mox(cls, *args, stdin=None):
        return serve_helper.mox(cls.config, *args, stdin=stdin)

    def stored(self, mailbox="Inbox"):
        return self.server.stored(self.dir, mailbox=mailbox)

    def submit(self, recipients, token, extra=""):
        with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT) as s:
            s.starttls(context=tls_context())
            s.login("mjl@example.org", "secret123")
            msg = (f"From: mjl@example.org\r\nTo: {', '.join(recipients)}\r\nSubject: {token}\r\n{extra}"
                   f"Message-ID: <{token}@example.org>\r\n\r\nbody {token}\r\n")
            return s.sendmail("mjl@example.org", recipients, msg.encode())

    def wait(self, check, what, timeout=15):
        deadline = time.time() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.time() > deadline:
                self.fail(f"timeout waiting for {what}; server log:\n{self.server.log_text()}")
            time.sleep(0.1)

    def test_delivered_in_one_transaction_with_history(self):
        token = f"ok-{time.time()}"
        self.submit(["alice@remote.example", "bob@remote.example"], token, extra="X-Mox-Extra-Order-Id: 42\r\n")
        envelopes = self.wait(lambda: self.sink.find(token), "delivery to the sink")
        self.assertEqual(len(envelopes), 1, envelopes)
        mail_from, rcpts, content = envelopes[0]
        self.assertEqual(mail_from, "mjl@example.org")
        self.assertEqual(sorted(rcpts), ["alice@remote.example", "bob@remote.example"])
        # The submission's trace and authentication header were sent in front of the message.
        self.assertIn(b"Received: from", content)
        self.assertIn(b"auth=pass smtp.mailfrom=mjl@example.org", content)
        self.assertIn(f"body {token}".encode(), content)
        # The extra data stays with the queue; the message goes without the field.
        self.assertNotIn(b"X-Mox-Extra", content)
        self.assertIn(f"Subject: {token}\r\nMessage-ID: <{token}@example.org>\r\n\r\nbody {token}\r\n".encode(), content)
        retired = self.wait(lambda: [l for l in self.mox("queue", "retired", "list").splitlines() if "to:alice@remote.example" in l and "success" in l], "retired entry")
        msgid = retired[0].split()[0]
        printed = self.mox("queue", "retired", "print", msgid)
        self.assertIn('"Order-Id": "42"', printed)
        self.assertIn('"Success": true', printed)
        self.assertNotIn(token, self.mox("queue", "list"))

    def test_permanent_failure_gives_dsn_and_suppression(self):
        token = f"bad-{time.time()}"
        self.submit(["bad550@remote.example"], token)
        dsn = self.wait(lambda: [m for m in self.stored() if b"mail delivery failed" in m and token.encode() in m], "failure dsn")[0]
        self.assertIn(b"Final-Recipient: rfc822; bad550@remote.example", dsn)
        self.assertIn(b"Action: failed", dsn)
        self.assertIn(b"Status: 5.1.1", dsn)
        self.assertIn(b"550 5.1.1 no such user here", dsn)
        self.assertIn(b"Content-Type: multipart/report; report-type=delivery-status", dsn)
        self.assertIn("bad550@remote.example", self.mox("queue", "suppress", "list"))
        self.assertTrue(self.mox("queue", "suppress", "lookup", "bad550@remote.example").startswith("present"))
        # Next time the submission is refused at once.
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as e:
            self.submit(["bad550@remote.example"], token + "-again")
        code, text = e.exception.recipients["bad550@remote.example"]
        self.assertEqual(code, 550, text)
        self.assertIn(b"suppression list", text)
        self.mox("queue", "suppress", "remove", "mjl", "bad550@remote.example")
        self.assertEqual(self.mox("queue", "suppress", "lookup", "bad550@remote.example").strip(), "not present")

    def test_temporary_failure_is_retried_and_fail_sends_dsn(self):
        token = f"later-{time.time()}"
        self.submit(["later451@remote.example"], token)
        line = self.wait(lambda: [l for l in self.mox("queue", "list", "-to", "later451@").splitlines() if "451" in l], "temporary failure in queue")[0]
        self.assertIn("try again later", line)
        # Rescheduled for now: another attempt, still failing, still queued.
        self.assertIn("1 message(s) rescheduled", self.mox("queue", "schedule", "-to", "later451@", "-now", "0s"))
        self.assertIn("1 message(s) marked as failed", self.mox("queue", "fail", "-to", "later451@"))
        dsn = self.wait(lambda: [m for m in self.stored() if b"mail delivery failed" in m and token.encode() in m], "dsn after fail")[0]
        self.assertIn(b"delivery canceled by admin", dsn)
        self.assertIn("(none)", self.mox("queue", "list", "-to", "later451@"))

    def test_hold_rule_keeps_messages_until_released(self):
        out = self.mox("queue", "holdrules", "add", "-recipientdom", "held.example")
        rule = out.split()[2]
        token = f"held-{time.time()}"
        self.submit(["carol@held.example"], token)
        time.sleep(1)
        self.assertEqual(self.sink.find(token), [])
        self.assertIn("to:carol@held.example", self.mox("queue", "list", "-hold", "true"))
        self.assertIn('recipient domain "held.example"', self.mox("queue", "holdrules", "list"))
        self.mox("queue", "holdrules", "remove", rule)
        self.assertIn("1 messages changed", self.mox("queue", "unhold", "-to", "carol@held.example"))
        self.wait(lambda: self.sink.find(token), "delivery after unhold")

    def test_fromid_per_recipient(self):
        token = f"fromid-{time.time()}"
        with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT) as s:
            s.starttls(context=tls_context())
            s.login("fromid@example.org", "secret123")
            msg = f"From: fromid@example.org\r\nSubject: {token}\r\n\r\nbody {token}\r\n".encode()
            s.sendmail("fromid@example.org", ["f1@remote.example", "f2@remote.example"], msg)
            # An id of the sender's own choosing, for one recipient only, and only once.
            s.sendmail("fromid+chosen1@example.org", ["f3@remote.example"], msg)
            with self.assertRaises(smtplib.SMTPDataError) as e:
                s.sendmail("fromid+chosen1@example.org", ["f4@remote.example"], msg)
            self.assertEqual(e.exception.smtp_code, 554)
            self.assertIn(b"5.1.7", e.exception.smtp_error)
            with self.assertRaises(smtplib.SMTPDataError) as e:
                s.sendmail("fromid+chosen2@example.org", ["f5@remote.example", "f6@remote.example"], msg)
            self.assertIn(b"5.5.3", e.exception.smtp_error)
        envelopes = self.wait(lambda: len(self.sink.find(token)) >= 3 and self.sink.find(token), "fromid deliveries")
        senders = sorted(e[0] for e in envelopes)
        generated = [f for f in senders if f != "fromid+chosen1@example.org"]
        self.assertIn("fromid+chosen1@example.org", senders)
        self.assertEqual(len(generated), 2, senders)
        for sender in generated:
            self.assertRegex(sender, r"^fromid\+[A-Za-z0-9_-]{22}@example\.org$")
        self.assertNotEqual(generated[0], generated[1])
        # One transaction per recipient: each has its own sender.
        self.assertTrue(all(len(e[1]) == 1 for e in envelopes), envelopes)

    def test_sendmail(self):
        conf = os.path.join(self.dir, "moxsubmit.conf")
        with open(conf, "w") as f:
            f.write(f"Host: localhost\nPort: {SUBMISSION_PORT}\nSTARTTLS: true\nTLSInsecureSkipVerify: true\n"
                    "Username: mjl@example.org\nPassword: secret123\nFrom: mjl@example.org\n"
                    "DefaultDestination: root@remote.example\n")
        token = f"sendmail-{time.time()}"
        env = dict(os.environ, MOXSUBMITCONF=conf, HOME=self.dir)
        # As cron runs it: LF line endings, no domain in the recipient, a From that is replaced.
        p = subprocess.run([MOX, "sendmail", "-i", "-FCron Daemon", "--", "root"], env=env, capture_output=True,
                           input=f"From: root\nSubject: {token}\n\n.leading dot\nend\n".encode())
        self.assertEqual(p.returncode, 0, p.stderr)
        envelope = self.wait(lambda: self.sink.find(token), "sendmail delivery")[0]
        self.assertEqual(envelope[1], ["root@remote.example"])
        self.assertIn(b"From: <mjl@example.org>\r\n", envelope[2])
        self.assertIn(b"\r\n.leading dot\r\nend\r\n", envelope[2])
        self.assertNotIn(b"From: root", envelope[2])
        # A refused recipient (on the suppression list): exit status 1, the message kept in
        # $HOME/moxsubmit.failures.
        self.mox("queue", "suppress", "add", "mjl", "listed@remote.example")
        p = subprocess.run([MOX, "sendmail", "listed@remote.example"], env=env, capture_output=True,
                           input=b"Subject: x\n\nbody\n")
        self.mox("queue", "suppress", "remove", "mjl", "listed@remote.example")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"submit failed", p.stderr)
        self.assertIn(b"suppression list", p.stderr)
        self.assertTrue(os.listdir(os.path.join(self.dir, "moxsubmit.failures")))

    def test_incoming_dsn_for_fromid_suppresses(self):
        # A message sent with a fromid is accepted by the sink; later a bounce for it comes back
        # to the fromid address, and its recipient goes on the suppression list.
        token = f"bounce-{time.time()}"
        with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT) as s:
            s.starttls(context=tls_context())
            s.login("fromid@example.org", "secret123")
            s.sendmail("fromid@example.org", ["gone@remote.example"],
                       f"From: fromid@example.org\r\nSubject: {token}\r\n\r\nbody\r\n".encode())
        envelope = self.wait(lambda: self.sink.find(token), "delivery")[0]
        bounce_to = envelope[0]
        self.assertRegex(bounce_to, r"^fromid\+[A-Za-z0-9_-]{22}@example\.org$")
        self.wait(lambda: token not in self.mox("queue", "list") and "gone@remote.example" in self.mox("queue", "retired", "list"), "retired")
        dsn = ("From: MAILER-DAEMON@remote.example\r\n"
               f"To: {bounce_to}\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
               'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
               "--b\r\nContent-Type: text/plain\r\n\r\nThe mailbox is gone.\r\n"
               "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
               "Reporting-MTA: dns; mx.remote.example\r\n\r\n"
               "Final-Recipient: rfc822; gone@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
               "Diagnostic-Code: smtp; 550 5.1.1 mailbox gone\r\n\r\n--b--\r\n")
        with smtplib.SMTP("127.0.0.1", SMTP_PORT) as s:
            s.ehlo("mx.remote.example")
            s.sendmail("", [bounce_to], dsn.encode())
        self.wait(lambda: "gone@remote.example" in self.mox("queue", "suppress", "list"), "suppression from the dsn")
        self.assertIn("delivery failure from DSN", self.mox("queue", "suppress", "list"))
        # The bounce itself is delivered to the account as any message.
        self.wait(lambda: [m for m in self.stored() if b"The mailbox is gone." in m], "bounce in the inbox")
        self.mox("queue", "suppress", "remove", "mjl", "gone@remote.example")

    def test_dump_and_bad_commands(self):
        self.mox("queue", "holdrules", "add", "-recipientdom", "dump.example")
        try:
            token = f"dump-{time.time()}"
            self.submit(["dave@dump.example"], token)
            line = [l for l in self.mox("queue", "list").splitlines() if "dave@dump.example" in l][0]
            dumped = self.mox("queue", "dump", line.split()[0])
            self.assertIn("Received: from", dumped)
            self.assertIn(f"body {token}", dumped)
            self.mox("queue", "drop", "-to", "dave@dump.example")
        finally:
            for l in self.mox("queue", "holdrules", "list").splitlines():
                if "dump.example" in l:
                    self.mox("queue", "holdrules", "remove", l.split()[1].rstrip(":"))
        p = subprocess.run([MOX, "-config", os.path.join(self.config, "mox.conf"), "queue", "dump", "99999"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("message not found", p.stderr)
        p = subprocess.run([MOX, "-config", os.path.join(self.config, "mox.conf"), "queue", "list", "-nextattempt", "soon"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)


if __name__ == "__main__":
    unittest.main()
