"""Two `mox serve` instances on loopback addresses, 127.0.0.2 for a.example and 127.0.0.3 for
b.example, with nsd serving both domains (MX, SPF, DKIM, DMARC and reverse DNS): mail submitted
on one is delivered by its queue to the other's MX on port 25 and arrives in the INBOX signed,
over STARTTLS, with iprev, spf, dkim and dmarc all pass; in both directions. A recipient the
other server does not know comes back as a failure DSN.

Port 25 and nsd's port 53 need root (CI runs as root); the test skips without it.

Run by `make test`: python3 -m unittest discover -s Tests/Interop -v
"""

import email
import email.policy
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

try:
    import authres
except ImportError:  # pragma: no cover - make test-deps installs it
    authres = None

import nsd
import serve_helper
from test_serve import MOX, tls_context

NSD_IP = "127.0.0.155"
SERVERS = {
    "a": {"ip": "127.0.0.2", "submission": 10687},
    "b": {"ip": "127.0.0.3", "submission": 10688},
}

SOA = "@\tIN SOA ns.a.example. hostmaster.a.example. 1 3600 600 86400 60\n@\tIN NS ns.a.example.\n"


def zone(origin, body):
    return f"$ORIGIN {origin}.\n$TTL 300\n" + SOA + body


def mox_conf(name, ip, submission):
    return serve_helper.mox_conf(ip=ip, submission_port=submission, hostname=f"mail.{name}.example")


def domains_conf(name):
    return f"""Domains:
	{name}.example:
		LocalpartCatchallSeparator: +
		DKIM:
			Selectors:
				mox:
					PrivateKeyFile: dkim.pem
			Sign:
				- mox
Accounts:
	mjl:
		Domain: {name}.example
		Destinations:
			mjl@{name}.example: nil
"""


def port_free(ip, port):
    with socket.socket() as s:
        try:
            s.bind((ip, port))
            return True
        except OSError:
            return False


@unittest.skipUnless(nsd.available() and authres is not None, "needs root (ports 25 and 53), nsd and authres")
class TwoServersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for s in SERVERS.values():
            if not port_free(s["ip"], 25) or not port_free(s["ip"], s["submission"]):
                raise unittest.SkipTest(f"port 25 or {s['submission']} on {s['ip']} is in use")
        cls.dir = tempfile.mkdtemp(prefix="mox-two-servers-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        zones = {}
        reverse = ""
        for name, s in SERVERS.items():
            key = subprocess.run([MOX, "dkim", "gened25519"], check=True, capture_output=True).stdout
            s["config"] = serve_helper.write_config(cls.dir, mox_conf(name, s["ip"], s["submission"]), domains_conf(name),
                                                    name=name, files={"dkim.pem": key})
            record = subprocess.run([MOX, "dkim", "txt"], input=key, check=True, capture_output=True).stdout.decode()
            txt = "".join(part for i, part in enumerate(record.split('"')) if i % 2 == 1)
            zones[f"{name}.example"] = zone(f"{name}.example", f"ns\tIN A {NSD_IP}\n"
                                            + f"@\tIN MX 10 mail.{name}.example.\n"
                                            + f"mail\tIN A {s['ip']}\n"
                                            + f'@\tIN TXT "v=spf1 ip4:{s["ip"]} -all"\n'
                                            + f'mail\tIN TXT "v=spf1 ip4:{s["ip"]} -all"\n'
                                            + '_dmarc\tIN TXT "v=DMARC1; p=reject"\n'
                                            + f"mox._domainkey\tIN TXT {nsd.txt(txt)}\n")
            reverse += f"{s['ip'].split('.')[-1]}\tIN PTR mail.{name}.example.\n"
        zones["0.0.127.in-addr.arpa"] = zone("0.0.127.in-addr.arpa", reverse)
        cls.nsd = nsd.NSD(cls.dir, NSD_IP, zones)
        cls.addClassCleanup(cls.nsd.stop)
        cls.env = dict(os.environ, MOXRESOLVCONF=cls.nsd.resolv_conf("nsd"))
        for name, s in SERVERS.items():
            cls.mox(name, "config", "test")
            cls.mox(name, "setaccountpassword", "mjl", stdin="secret123\n")
            s["server"] = serve_helper.Server(s["config"], os.path.join(cls.dir, f"server-{name}.log"), s["ip"],
                                              s["submission"], env=cls.env)
            cls.addClassCleanup(s["server"].stop)

    @classmethod
    def mox(cls, name, *args, stdin=None):
        return serve_helper.mox(SERVERS[name]["config"], *args, stdin=stdin, env=getattr(cls, "env", None))

    def stored(self, name, mailbox="Inbox"):
        return SERVERS[name]["server"].stored(self.dir, mailbox=mailbox)

    def wait_stored(self, name, token, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [m for m in self.stored(name) if token.encode() in m]
            if found:
                return found
            time.sleep(0.2)
        logs = {n: s["server"].log_text(2500) for n, s in SERVERS.items()}
        self.fail(f"{token} not delivered to {name}; logs: {logs}")

    def submit(self, sender, recipient, token):
        s = SERVERS[sender]
        with smtplib.SMTP(s["ip"], s["submission"]) as c:
            c.starttls(context=tls_context())
            c.login(f"mjl@{sender}.example", "secret123")
            msg = (f"From: <mjl@{sender}.example>\r\nTo: <{recipient}>\r\nSubject: {token}\r\n"
                   f"\r\nhello from {sender}\r\n")
            c.sendmail(f"mjl@{sender}.example", [recipient], msg.encode())

    def check_delivered(self, sender, receiver):
        token = f"{sender}-to-{receiver}-{time.time()}"
        self.submit(sender, f"mjl@{receiver}.example", token)
        message = self.wait_stored(receiver, token)[0]
        m = email.message_from_bytes(message, policy=email.policy.compat32)
        received = " ".join(m.get_all("Received")[0].split())
        self.assertIn(f"from mail.{sender}.example", received)
        self.assertIn("with ESMTPS", received)
        self.assertIn("DKIM-Signature", m)
        results = {}
        for value in m.get_all("Authentication-Results") or []:
            parsed = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + " ".join(value.split()))
            if parsed.authserv_id == f"mail.{receiver}.example":
                for r in parsed.results:
                    results[r.method] = r.result
        self.assertEqual(results, {"iprev": "pass", "spf": "pass", "dkim": "pass", "dmarc": "pass"}, message[:2000])
        retired = self.mox(sender, "queue", "list")
        self.assertNotIn(token, retired)

    def test_a_to_b(self):
        self.check_delivered("a", "b")

    def test_b_to_a(self):
        self.check_delivered("b", "a")

    def test_unknown_recipient_returns_failure_dsn(self):
        token = f"nobody-{time.time()}"
        self.submit("a", "nobody@b.example", token)
        deadline = time.time() + 30
        while time.time() < deadline:
            dsns = [m for m in self.stored("a") if b"mail delivery failed" in m and token.encode() in m]
            if dsns:
                break
            time.sleep(0.2)
        else:
            self.fail("no dsn: " + SERVERS["a"]["server"].log_text(2500))
        self.assertIn(b"Remote-MTA: dns; mail.b.example (127.0.0.3)", dsns[0])
        self.assertIn(b"Status: 5.1.1", dsns[0])


if __name__ == "__main__":
    unittest.main()
