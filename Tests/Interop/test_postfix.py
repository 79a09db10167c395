"""Postfix (Debian) as the next hop: `mox serve` delivers submitted mail by MX (nsd serves
pf.example with its MX at 127.0.0.4) to a Postfix started with its own configuration directory,
listening on 127.0.0.4 port 25 with STARTTLS and virtual mailboxes. The message arrives in the
Maildir over TLS; a recipient Postfix does not know comes back as a failure DSN.

Needs root (port 25, nsd's port 53, Postfix), nsd and postfix; skips without them.

Run by `make test`: python3 -m unittest discover -s Tests/Interop -v
"""

import email
import email.policy
import grp
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

import nsd
import serve_helper
from test_serve import tls_context

NSD_IP, POSTFIX_IP = "127.0.0.156", "127.0.0.4"
SUBMISSION_PORT, SMTP_PORT = 10801, 10802

MOX_CONF = serve_helper.mox_conf(smtp_port=SMTP_PORT, submission_port=SUBMISSION_PORT)

DOMAINS_CONF = """Domains:
	example.org: nil
Accounts:
	mjl:
		Domain: example.org
		Destinations:
			mjl@example.org: nil
"""

SOA = "@\tIN SOA ns.pf.example. hostmaster.pf.example. 1 3600 600 86400 60\n@\tIN NS ns.pf.example.\n"

POSTFIX_MAIN = """compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.pf.example
mydestination =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = pf.example
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = inline:{{ bob@pf.example=bob/ }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/localhost.crt
smtpd_tls_key_file = {d}/localhost.key
smtpd_tls_received_header = yes
smtputf8_enable = yes
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
"""


def postfix_available():
    return os.geteuid() == 0 and shutil.which("postfix") is not None and nsd.available()


@unittest.skipUnless(postfix_available(), "needs root, postfix and nsd")
class PostfixNextHopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for ip, port in ((POSTFIX_IP, 25), ("127.0.0.1", SUBMISSION_PORT), ("127.0.0.1", SMTP_PORT)):
            with socket.socket() as s:
                if s.connect_ex((ip, port)) == 0:
                    raise unittest.SkipTest(f"port {port} on {ip} is in use")
        cls.dir = tempfile.mkdtemp(prefix="mox-postfix-")
        # Postfix's daemons run as the postfix user and need to reach their directories.
        os.chmod(cls.dir, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.config = serve_helper.write_config(cls.dir, MOX_CONF, DOMAINS_CONF)

        zone = (f"$ORIGIN pf.example.\n$TTL 300\n{SOA}ns\tIN A {NSD_IP}\n"
                f"@\tIN MX 10 mail.pf.example.\nmail\tIN A {POSTFIX_IP}\n")
        cls.nsd = nsd.NSD(cls.dir, NSD_IP, {"pf.example": zone})
        cls.addClassCleanup(cls.nsd.stop)
        cls.env = dict(os.environ, MOXRESOLVCONF=cls.nsd.resolv_conf("nsd"))

        d = os.path.join(cls.dir, "postfix")
        cls.postfix = d
        for sub in ("queue", "data", "mail"):
            os.makedirs(os.path.join(d, sub))
        uid, gid = pwd.getpwnam("postfix").pw_uid, grp.getgrnam("postfix").gr_gid
        for sub in ("data", "mail"):
            os.chown(os.path.join(d, sub), uid, gid)
        for name in ("localhost.crt", "localhost.key"):
            shutil.copy(os.path.join(cls.config, name), d)
        with open(os.path.join(d, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN.format(d=d, uid=uid, gid=gid))
        with open("/etc/postfix/master.cf") as f:
            lines = [l for l in f.read().splitlines() if not l.startswith("smtp      inet") and not l.startswith("postlog")]
        # smtpd on 127.0.0.4 only (inet_interfaces must name an address of an interface, which
        # 127.0.0.4 is not; a service address in master.cf need not), without chroot (the queue
        # is in a temporary directory), and the log service.
        lines += [f"{POSTFIX_IP}:25 inet n - n - - smtpd", "postlog unix-dgram n - n - 1 postlogd"]
        with open(os.path.join(d, "master.cf"), "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(["postfix", "-c", d, "set-permissions"], capture_output=True)
        subprocess.run(["postfix", "-c", d, "check"], capture_output=True)
        p = subprocess.run(["postfix", "-c", d, "start"], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"postfix did not start: {p.stdout}{p.stderr}{cls.postfix_log()}")
        cls.addClassCleanup(lambda: subprocess.run(["postfix", "-c", d, "stop"], capture_output=True))
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection((POSTFIX_IP, 25), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("postfix does not listen: " + cls.postfix_log())
                time.sleep(0.1)

        serve_helper.mox(cls.config, "setaccountpassword", "mjl", stdin="secret123\n")
        cls.server = serve_helper.Server(cls.config, os.path.join(cls.dir, "server.log"), "127.0.0.1", SUBMISSION_PORT,
                                         env=cls.env)
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def postfix_log(cls):
        path = os.path.join(cls.postfix, "maillog")
        if not os.path.exists(path):
            return ""
        with open(path) as f:
            return f.read()[-3000:]

    def submit(self, recipient, token):
        with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT) as s:
            s.starttls(context=tls_context())
            s.login("mjl@example.org", "secret123")
            s.sendmail("mjl@example.org", [recipient],
                       f"From: mjl@example.org\r\nTo: {recipient}\r\nSubject: {token}\r\n\r\nhello {token}\r\n".encode())

    def test_delivered_to_postfix_over_starttls(self):
        token = f"to-postfix-{time.time()}"
        self.submit("bob@pf.example", token)
        new = os.path.join(self.postfix, "mail", "bob", "new")
        deadline = time.time() + 30
        found = []
        while not found and time.time() < deadline:
            if os.path.isdir(new):
                for name in os.listdir(new):
                    with open(os.path.join(new, name), "rb") as f:
                        data = f.read()
                    if token.encode() in data:
                        found.append(data)
            time.sleep(0.1)
        self.assertTrue(found, f"not in bob's Maildir; postfix log: {self.postfix_log()}; mox log: {self.server.log_text()}")
        message = found[0]
        # Postfix's own trace: from our host name and address, over TLS.
        parsed = email.message_from_bytes(message, policy=email.policy.compat32)
        received = " ".join(parsed.get_all("Received")[0].split())
        self.assertIn("from mail.example.org", received)
        self.assertIn("[127.0.0.1]", received)
        self.assertIn("using TLS", received)
        self.assertIn(b"Return-Path: <mjl@example.org>", message)
        self.assertIn(f"hello {token}".encode(), message)

    def test_unknown_recipient_at_postfix_gives_dsn(self):
        token = f"nobody-postfix-{time.time()}"
        self.submit("nobody@pf.example", token)
        deadline = time.time() + 30
        while time.time() < deadline:
            dsns = [m for m in self.server.stored(self.dir) if b"mail delivery failed" in m and token.encode() in m]
            if dsns:
                break
            time.sleep(0.2)
        else:
            self.fail(f"no dsn; mox log: {self.server.log_text()}")
        self.assertIn(b"Remote-MTA: dns; mail.pf.example (127.0.0.4)", dsns[0])
        self.assertIn(b"Status: 5.1.1", dsns[0])
        self.assertIn("nobody@pf.example", serve_helper.mox(self.config, "queue", "suppress", "list"))


if __name__ == "__main__":
    unittest.main()
