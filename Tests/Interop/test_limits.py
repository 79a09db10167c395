"""`mox serve` limits per network address, shared by every protocol and port.

Failed logins over SMTP submission (STARTTLS on one port, TLS on another) and IMAP from one
address count together: after mox's 10 a minute, every one of those ports refuses the address
(SMTP 421 4.7.0, IMAP BYE), even with the right password. Ports above 11000 on 127.0.0.1.
"""

import imaplib
import os
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import MOX, tls_context

SUBMISSION, SUBMISSIONS, IMAP = 11587, 11465, 11143

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
		Submission:
			Enabled: true
			Port: {SUBMISSION}
		Submissions:
			Enabled: true
			Port: {SUBMISSIONS}
		IMAP:
			Enabled: true
			Port: {IMAP}
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

USER, PASSWORD = "mjl@example.org", "secret123"


class SharedLoginLimitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for port in (SUBMISSION, SUBMISSIONS, IMAP):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    raise unittest.SkipTest(f"port {port} is in use")
        cls.dir = tempfile.mkdtemp(prefix="mox-limits-test-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        config = os.path.join(cls.dir, "config")
        init = os.path.join(cls.dir, "init")
        subprocess.run([MOX, "localserve", "-dir", init, "-initonly"], check=True, capture_output=True)
        os.mkdir(config)
        for name in ("localhost.crt", "localhost.key"):
            shutil.copy(os.path.join(init, name), config)
        with open(os.path.join(config, "mox.conf"), "w") as f:
            f.write(MOX_CONF)
        with open(os.path.join(config, "domains.conf"), "w") as f:
            f.write(DOMAINS_CONF)
        conf = os.path.join(config, "mox.conf")
        subprocess.run([MOX, "-config", conf, "setaccountpassword", "mjl"], input=PASSWORD + "\n", text=True,
                       check=True, capture_output=True)
        cls.log = open(os.path.join(cls.dir, "server.log"), "w")
        cls.proc = subprocess.Popen([MOX, "-config", conf, "serve"], stdout=cls.log, stderr=subprocess.STDOUT)
        cls.addClassCleanup(cls.stop)
        deadline = time.time() + 60
        for port in (SUBMISSION, SUBMISSIONS, IMAP):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if cls.proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError("mox serve did not start: " + open(os.path.join(cls.dir, "server.log")).read())
                    time.sleep(0.1)

    @classmethod
    def stop(cls):
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
        cls.log.close()

    def smtp_login(self, port, password):
        """The login's reply code; a refused connection gives its greeting's code."""
        try:
            if port == SUBMISSIONS:
                s = smtplib.SMTP_SSL("127.0.0.1", port, context=tls_context(), timeout=10)
            else:
                s = smtplib.SMTP("127.0.0.1", port, timeout=10)
                s.starttls(context=tls_context())
        except smtplib.SMTPConnectError as e:
            return e.smtp_code, e.smtp_error
        except smtplib.SMTPServerDisconnected as e:
            return 421, str(e).encode()
        try:
            # One AUTH PLAIN: smtplib's login() would try each mechanism in turn.
            s.ehlo()
            code, text = s.auth("PLAIN", lambda challenge=None: f"\0{USER}\0{password}")
        except smtplib.SMTPAuthenticationError as e:
            code, text = e.smtp_code, e.smtp_error
        except smtplib.SMTPServerDisconnected as e:
            code, text = 421, str(e).encode()
        try:
            s.close()
        except Exception:
            pass
        return code, text

    def imap_login(self, password):
        """"ok", "no", or the BYE text of a refused connection."""
        try:
            c = imaplib.IMAP4("127.0.0.1", IMAP, timeout=10)
        except imaplib.IMAP4.error as e:
            # A BYE greeting.
            return str(e)
        try:
            c.starttls(ssl_context=tls_context())
            c.login(USER, password)
            c.logout()
            return "ok"
        except imaplib.IMAP4.error:
            return "no"
        finally:
            try:
                c.shutdown()
            except Exception:
                pass

    def test_failures_on_every_protocol_share_one_limit(self):
        # 10 failures a minute are allowed for one address: 4 + 3 + 3 over three ports.
        for _ in range(4):
            self.assertEqual(self.smtp_login(SUBMISSION, "wrong")[0], 535)
        for _ in range(3):
            self.assertEqual(self.smtp_login(SUBMISSIONS, "wrong")[0], 535)
        for _ in range(3):
            self.assertEqual(self.imap_login("wrong"), "no")
        # The 11th attempt, on any of them and with the right password, is refused.
        code, text = self.smtp_login(SUBMISSION, PASSWORD)
        self.assertEqual(code, 421, text)
        self.assertIn(b"too many auth failures", text)
        self.assertEqual(self.smtp_login(SUBMISSIONS, PASSWORD)[0], 421)
        self.assertIn("too many auth failures", self.imap_login(PASSWORD))


if __name__ == "__main__":
    unittest.main()
