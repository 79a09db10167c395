"""The Socks transport through a real SOCKS5 proxy, microsocks (Debian): `mox serve` delivers
by direct delivery with every connection made through the proxy, and says the proxy's host name
(RemoteHostname) in EHLO, as mox does. The receiving server is aiosmtpd (PyPI) on 127.0.0.6
port 25, reached through the recipient's address literal. A proxy that wants a password (which
mox's Socks transport cannot give) is a temporary failure with the proxy's reason.

Needs root (port 25), microsocks and aiosmtpd; skips without them.

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
from test_serve import tls_context

MX_IP = "127.0.0.6"
PROXY_PORT, LOCKED_PROXY_PORT = 10196, 10197
SUBMISSION_PORT, SMTP_PORT = 10811, 10812

MOX_CONF = serve_helper.mox_conf(smtp_port=SMTP_PORT, submission_port=SUBMISSION_PORT, extra=f"""Transports:
	proxy:
		Socks:
			Address: 127.0.0.1:{PROXY_PORT}
			RemoteIPs:
				- 127.0.0.1
			RemoteHostname: proxy.example.org
	locked:
		Socks:
			Address: localhost:{LOCKED_PROXY_PORT}
			RemoteIPs:
				- 127.0.0.1
			RemoteHostname: proxy.example.org
""")

DOMAINS_CONF = """Domains:
	example.org: nil
Accounts:
	mjl:
		Domain: example.org
		Destinations:
			mjl@example.org: nil
	other:
		Domain: example.org
		Destinations:
			other@example.org: nil
		Routes:
			-
				Transport: locked
Routes:
	-
		Transport: proxy
"""


class Receiver:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((session.host_name, session.peer[0], envelope.content))
        return "250 2.0.0 stored"

    def find(self, token):
        with self.lock:
            return [m for m in self.messages if token.encode() in m[2]]


def available():
    return os.geteuid() == 0 and shutil.which("microsocks") is not None and Controller is not None


@unittest.skipUnless(available(), "needs root (port 25), microsocks and aiosmtpd")
class SocksTransportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for ip, port in ((MX_IP, 25), ("127.0.0.1", PROXY_PORT), ("127.0.0.1", LOCKED_PROXY_PORT),
                         ("127.0.0.1", SUBMISSION_PORT), ("127.0.0.1", SMTP_PORT)):
            with socket.socket() as s:
                if s.connect_ex((ip, port)) == 0:
                    raise unittest.SkipTest(f"port {port} on {ip} is in use")
        cls.dir = tempfile.mkdtemp(prefix="mox-socks-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.receiver = Receiver()
        cls.controller = Controller(cls.receiver, hostname=MX_IP, port=25)
        cls.controller.start()
        cls.addClassCleanup(cls.controller.stop)
        cls.proxy_log = open(os.path.join(cls.dir, "microsocks.log"), "w+")
        cls.addClassCleanup(cls.proxy_log.close)
        for args in (["-p", str(PROXY_PORT)], ["-p", str(LOCKED_PROXY_PORT), "-u", "user", "-P", "secret"]):
            p = subprocess.Popen(["microsocks", "-i", "127.0.0.1"] + args, stdout=cls.proxy_log, stderr=subprocess.STDOUT)
            cls.addClassCleanup(lambda p=p: (p.terminate(), p.wait()))
        for port in (PROXY_PORT, LOCKED_PROXY_PORT):
            deadline = time.time() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError(f"microsocks does not listen on {port}")
                    time.sleep(0.05)
        cls.config = serve_helper.write_config(cls.dir, MOX_CONF, DOMAINS_CONF)
        serve_helper.mox(cls.config, "setaccountpassword", "mjl", stdin="secret123\n")
        serve_helper.mox(cls.config, "setaccountpassword", "other", stdin="secret123\n")
        cls.server = serve_helper.Server(cls.config, os.path.join(cls.dir, "server.log"), "127.0.0.1", SUBMISSION_PORT)
        cls.addClassCleanup(cls.server.stop)

    def submit(self, login, token):
        recipient = f"bob@[{MX_IP}]"
        with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT) as s:
            s.starttls(context=tls_context())
            s.login(login, "secret123")
            s.sendmail(login, [recipient],
                       f"From: {login}\r\nTo: {recipient}\r\nSubject: {token}\r\n\r\nhello {token}\r\n".encode())

    def test_delivered_through_proxy_with_its_hostname(self):
        token = f"socks-{time.time()}"
        self.submit("mjl@example.org", token)
        deadline = time.time() + 30
        while not self.receiver.find(token) and time.time() < deadline:
            time.sleep(0.1)
        found = self.receiver.find(token)
        self.assertTrue(found, f"not delivered; mox log: {self.server.log_text()}")
        ehlo, peer, content = found[0]
        self.assertEqual(ehlo, "proxy.example.org")
        self.assertEqual(peer, "127.0.0.1")
        self.assertIn(b"Received: from ", content)
        # The proxy made the connection (microsocks logs each one).
        self.proxy_log.flush()
        with open(self.proxy_log.name) as f:
            self.assertIn(f"{MX_IP}:25", f.read())
        self.assertIn('transport=proxy', self.server.log_text(20000))

    def test_proxy_wanting_a_password_is_a_temporary_failure(self):
        token = f"socks-locked-{time.time()}"
        self.submit("other@example.org", token)
        deadline = time.time() + 30
        text = ""
        while time.time() < deadline:
            text = self.server.log_text(20000)
            if "socks proxy requires authentication" in text:
                break
            time.sleep(0.1)
        self.assertIn("socks proxy requires authentication", text)
        self.assertFalse(self.receiver.find(token))
        # Still queued, for a later attempt.
        listing = serve_helper.mox(self.config, "queue", "list")
        self.assertIn(f"bob@[{MX_IP}]", listing)
        self.assertIn("next 7m", listing)
        self.assertIn("socks proxy requires authentication", listing)


if __name__ == "__main__":
    unittest.main()
