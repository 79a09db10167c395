"""`mox serve` with a configuration of its own (not localserve): the policy of a real server.

Port 25 takes mail only for configured addresses (never an open relay), submission needs TLS
before AUTH and only sends as the account's addresses, mail for other domains goes into the
outgoing queue (where `mox queue` sees it), domains.conf changes take effect while the
server runs, and `mox stop` stops it. Listens on 127.0.0.1 with ports above 10000.

Run by `make test`: python3 -m unittest discover -s Tests/Interop -v
"""

import os
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def bin_path():
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


MOX = os.path.join(bin_path(), "mox")
SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT = 10025, 10587, 10465

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
		Submission:
			Enabled: true
			Port: {SUBMISSION_PORT}
		Submissions:
			Enabled: true
			Port: {SUBMISSIONS_PORT}
Postmaster:
	Account: mjl
	Mailbox: Postmaster
"""

DOMAINS_CONF = """Domains:
	example.org:
		LocalpartCatchallSeparator: +
Accounts:
	mjl:
		Domain: example.org
		Destinations:
			mjl@example.org: nil
"""


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for port in (SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    raise unittest.SkipTest(f"port {port} is in use")
        cls.dir = tempfile.mkdtemp(prefix="mox-serve-test-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.config = os.path.join(cls.dir, "config")
        # A certificate from localserve's set-up, which writes one for localhost.
        init = os.path.join(cls.dir, "init")
        subprocess.run([MOX, "localserve", "-dir", init, "-initonly"], check=True, capture_output=True)
        os.mkdir(cls.config)
        for name in ("localhost.crt", "localhost.key"):
            shutil.copy(os.path.join(init, name), cls.config)
        with open(os.path.join(cls.config, "mox.conf"), "w") as f:
            f.write(MOX_CONF)
        with open(os.path.join(cls.config, "domains.conf"), "w") as f:
            f.write(DOMAINS_CONF)
        cls.mox("config", "test")
        cls.mox("setaccountpassword", "mjl", stdin="secret123\n")
        cls.log = open(os.path.join(cls.dir, "server.log"), "w")
        cls.proc = subprocess.Popen([MOX, "-config", os.path.join(cls.config, "mox.conf"), "serve"],
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop_server)
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", SUBMISSION_PORT), timeout=1).close()
                break
            except OSError:
                if cls.proc.poll() is not None or time.time() > deadline:
                    with open(os.path.join(cls.dir, "server.log")) as f:
                        raise RuntimeError("mox serve did not start: " + f.read())
                time.sleep(0.1)

    @classmethod
    def stop_server(cls):
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
        cls.log.close()

    @classmethod
    def mox(cls, *args, stdin=None):
        p = subprocess.run([MOX, "-config", os.path.join(cls.config, "mox.conf"), *args],
                           input=stdin, capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError(f"mox {' '.join(args)}: {p.stdout}{p.stderr}")
        return p.stdout

    def stored(self, mailbox="Inbox"):
        """The messages of a mailbox of account mjl, as exported Maildir files (LF endings)."""
        out = tempfile.mkdtemp(prefix="export-", dir=self.dir)
        try:
            self.mox("export", "maildir", "-single", out, os.path.join(self.dir, "config", "data", "accounts", "mjl"), mailbox)
            cur = os.path.join(out, mailbox, "cur")
            messages = []
            for name in sorted(os.listdir(cur)):
                with open(os.path.join(cur, name), "rb") as f:
                    messages.append(f.read())
            return messages
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def test_port25_accepts_local_recipients_only(self):
        with smtplib.SMTP("127.0.0.1", SMTP_PORT) as s:
            s.ehlo("sender.example.com")
            # Not an open relay: other domains are refused, as are unknown local addresses.
            s.mail("someone@example.com")
            self.assertEqual(s.rcpt("x@other.example")[0], 550)
            code, msg = s.rcpt("nobody@example.org")
            self.assertEqual(code, 550)
            self.assertTrue(msg.startswith(b"5.1.1"), msg)
            self.assertEqual(s.rcpt("MJL+tag@Example.org")[0], 250)
            subject = f"port25-{time.time()}"
            code, _ = s.data(f"From: someone@example.com\r\nSubject: {subject}\r\n\r\nhi\r\n".encode())
            self.assertEqual(code, 250)
        self.assertTrue(any(subject.encode() in m for m in self.stored()))

    def test_postmaster_without_domain(self):
        # RFC 5321 4.5.1: "postmaster" is always accepted; it goes to mox.conf's Postmaster.
        with smtplib.SMTP("127.0.0.1", SMTP_PORT) as s:
            s.ehlo("sender.example.com")
            s.mail("")
            self.assertEqual(s.rcpt("postmaster")[0], 250)
            code, _ = s.data(b"Subject: to postmaster\r\n\r\nhello\r\n")
            self.assertEqual(code, 250)
        self.assertTrue(any(b"to postmaster" in m for m in self.stored("Postmaster")))

    def test_submission_requires_tls_before_auth(self):
        with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT) as s:
            s.ehlo()
            self.assertFalse(s.has_extn("auth"))
            self.assertTrue(s.has_extn("starttls"))
            code, msg = s.docmd("AUTH", "PLAIN AG1qbEBleGFtcGxlLm9yZwBzZWNyZXQxMjM=")
            self.assertEqual(code, 538, msg)
            self.assertEqual(s.docmd("MAIL", "FROM:<mjl@example.org>")[0], 530)
            s.starttls(context=tls_context())
            s.ehlo()
            self.assertIn("PLAIN", s.esmtp_features.get("auth", ""))
            s.login("mjl@example.org", "secret123")
            # Only the account's own addresses may be used as sender.
            code, msg = s.docmd("MAIL", "FROM:<other@example.org>")
            self.assertEqual(code, 550, msg)
            self.assertEqual(s.docmd("MAIL", "FROM:<mjl+list@example.org>")[0], 250)
            # Other domains go into the outgoing queue.
            code, msg = s.docmd("RCPT", "TO:<friend@elsewhere.example>")
            self.assertEqual(code, 250, msg)
            self.assertEqual(s.docmd("RCPT", "TO:<mjl@example.org>")[0], 250)
            subject = f"submitted-{time.time()}"
            code, _ = s.data(f"From: mjl@example.org\r\nSubject: {subject}\r\n\r\nbody\r\n".encode())
            self.assertEqual(code, 250)
        self.assertTrue(any(subject.encode() in m for m in self.stored()))
        # The remote recipient waits in the queue (its domain cannot be resolved here), where
        # mox queue sees it and can drop it.
        listing = self.mox("queue", "list", "-to", "friend@elsewhere.example")
        self.assertIn("from:mjl+list@example.org to:friend@elsewhere.example", listing)
        self.assertIn("1 message(s) dropped", self.mox("queue", "drop", "-to", "friend@elsewhere.example"))
        self.assertIn("(none)", self.mox("queue", "list", "-to", "friend@elsewhere.example"))

    def test_wrong_password_and_submissions_port(self):
        with smtplib.SMTP_SSL("127.0.0.1", SUBMISSIONS_PORT, context=tls_context()) as s:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.login("mjl@example.org", "wrong")
            self.assertEqual(e.exception.smtp_code, 535)
        with smtplib.SMTP_SSL("127.0.0.1", SUBMISSIONS_PORT, context=tls_context()) as s:
            s.login("mjl@example.org", "secret123")
            s.sendmail("mjl@example.org", ["mjl@example.org"], b"From: mjl@example.org\r\nSubject: tls\r\n\r\nx\r\n")

    def test_domains_conf_changes_take_effect(self):
        with smtplib.SMTP("127.0.0.1", SMTP_PORT) as s:
            s.ehlo("sender.example.com")
            s.mail("someone@example.com")
            self.assertEqual(s.rcpt("sales@example.org")[0], 550)
        self.mox("config", "address", "add", "sales@example.org", "mjl")
        deadline = time.time() + 10
        while True:
            with smtplib.SMTP("127.0.0.1", SMTP_PORT) as s:
                s.ehlo("sender.example.com")
                s.mail("someone@example.com")
                if s.rcpt("sales@example.org")[0] == 250:
                    break
            self.assertLess(time.time(), deadline, "the new address was not accepted within 10 s")
            time.sleep(0.2)
        # A broken domains.conf is not taken: the server keeps the previous configuration.
        path = os.path.join(self.config, "domains.conf")
        good = open(path).read()
        try:
            with open(path, "w") as f:
                f.write(good + "\tbroken line\n")
            time.sleep(2.5)
            with smtplib.SMTP("127.0.0.1", SMTP_PORT) as s:
                s.ehlo("sender.example.com")
                s.mail("someone@example.com")
                self.assertEqual(s.rcpt("sales@example.org")[0], 250)
        finally:
            with open(path, "w") as f:
                f.write(good)

    def test_zz_mox_stop(self):
        # Runs last (by name): stops the server through the control socket.
        out = self.mox("stop")
        self.assertIn("mox stopped", out)
        self.assertEqual(self.proc.wait(timeout=20), 0)


if __name__ == "__main__":
    unittest.main()
