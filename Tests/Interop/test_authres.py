"""Mail authentication of incoming and submitted mail, end to end against real peers: `mox serve`
resolves through nsd (Debian) serving the sender's zones on a loopback address, messages are
signed by dkimpy (PyPI) with Ed25519 and RSA keys published there, and the Authentication-Results
header of the delivered message is parsed with authres (PyPI).

Covered: a signed message from an aligned sender passes iprev, SPF, both DKIM signatures and
DMARC; a spoof of a p=reject domain is refused with 550 5.7.1; a p=quarantine failure lands in
Junk; a DNS failure with no verdict is refused with 451; a submitted message is signed with the
domain's DKIM key from domains.conf and verifies with dkimpy over nsd; a client listed in the
listener's DNSBL (a zone nsd serves) is refused with 451 4.3.0 while one listed only in
MonitorDNSBLs gets through; the DNSBL monitor's verdicts on our NATIPs show in /metrics. And
`mox dkim verify`, `mox dmarc lookup`, `mox dmarc verify` and `mox dnsbl check|checkhealth`
against the same DNS.

Needs root for port 53 (CI runs as root), nsd and openssl (`make test-deps`).
"""

import base64
import email
import email.policy
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import MOX, tls_context
import nsd

try:
    import authres
    import dkim
    import dns.resolver
    import nacl.signing
except ImportError:  # pragma: no cover - make test-deps installs them
    dkim = None

NSD_IP = "127.0.0.155"
SMTP_PORT, SUBMISSION_PORT, METRICS_PORT = 11025, 11587, 11010

MOX_CONF = f"""DataDir: data
LogLevel: info
User: {os.getuid()}
Hostname: mail.example.org
Listeners:
	public:
		IPs:
			- 127.0.0.1
		# What the DNSBL monitor checks: addresses in a documentation range, looked up at nsd only.
		NATIPs:
			- 198.51.100.7
			- 198.51.100.8
		TLS:
			KeyCerts:
				-
					CertFile: localhost.crt
					KeyFile: localhost.key
		SMTP:
			Enabled: true
			Port: {SMTP_PORT}
			DNSBLs:
				- bl.test
		MetricsHTTP:
			Enabled: true
			Port: {METRICS_PORT}
		Submission:
			Enabled: true
			Port: {SUBMISSION_PORT}
Postmaster:
	Account: mjl
	Mailbox: Postmaster
"""

DOMAINS_CONF = """MonitorDNSBLs:
	- monitor.test
Domains:
	example.org:
		DKIM:
			Selectors:
				mox:
					Canonicalization:
						HeaderRelaxed: true
						BodyRelaxed: true
					Expiration: 72h
					PrivateKeyFile: dkim.mox.pem
			Sign:
				- mox
Accounts:
	mjl:
		Domain: example.org
		Destinations:
			mjl@example.org: nil
"""

SOA = "@\tIN SOA ns.sender.example. hostmaster.sender.example. 1 3600 600 86400 60\n@\tIN NS ns.sender.example.\n"


def zone(origin, body):
    return f"$ORIGIN {origin}.\n$TTL 300\n" + SOA + body



def auth_results(message):
    """The parsed Authentication-Results fields of a stored message (bytes)."""
    m = email.message_from_bytes(message, policy=email.policy.compat32)
    out = []
    for value in m.get_all("Authentication-Results") or []:
        value = " ".join(value.split())
        out.append(authres.AuthenticationResultsHeader.parse("Authentication-Results: " + value))
    return out


def props(result):
    return {f"{p.type}.{p.name}": p.value for p in result.properties}


@unittest.skipUnless(nsd.available() and dkim is not None and shutil.which("openssl"),
                     "needs root, nsd, openssl, dkimpy, pynacl and authres")
class AuthenticationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for port in (SMTP_PORT, SUBMISSION_PORT, METRICS_PORT):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    raise unittest.SkipTest(f"port {port} is in use")
        cls.dir = tempfile.mkdtemp(prefix="mox-authres-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        d = cls.dir

        # The sender's keys: Ed25519 for dkimpy (the raw seed) and RSA 2048 (PKCS#1 PEM).
        cls.ed_key = nacl.signing.SigningKey.generate()
        ed_pub = base64.b64encode(cls.ed_key.verify_key.encode()).decode()
        rsa_path = os.path.join(d, "rsa.pem")
        subprocess.run(["openssl", "genrsa", "-traditional", "-out", rsa_path, "2048"], check=True, capture_output=True)
        with open(rsa_path, "rb") as f:
            cls.rsa_key = f.read()
        rsa_pub = base64.b64encode(subprocess.run(["openssl", "rsa", "-in", rsa_path, "-pubout", "-outform", "DER"],
                                                  check=True, capture_output=True).stdout).decode()

        # The server's configuration, with a DKIM key made by mox for example.org.
        cls.config = os.path.join(d, "config")
        init = os.path.join(d, "init")
        subprocess.run([MOX, "localserve", "-dir", init, "-initonly"], check=True, capture_output=True)
        os.mkdir(cls.config)
        for name in ("localhost.crt", "localhost.key"):
            shutil.copy(os.path.join(init, name), cls.config)
        key = subprocess.run([MOX, "dkim", "gened25519"], check=True, capture_output=True).stdout
        with open(os.path.join(cls.config, "dkim.mox.pem"), "wb") as f:
            f.write(key)
        record = subprocess.run([MOX, "dkim", "txt"], input=key, check=True, capture_output=True).stdout.decode()
        mox_record = "".join(part for i, part in enumerate(record.split('"')) if i % 2 == 1)
        with open(os.path.join(cls.config, "mox.conf"), "w") as f:
            f.write(MOX_CONF)
        with open(os.path.join(cls.config, "domains.conf"), "w") as f:
            f.write(DOMAINS_CONF)

        ns = f"ns\tIN A {NSD_IP}\n"
        cls.nsd = nsd.NSD(d, NSD_IP, {
            "sender.example": zone("sender.example", ns
                                   + '@\tIN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                                   + "mail\tIN A 127.0.0.1\n"
                                   + '_dmarc\tIN TXT "v=DMARC1; p=reject"\n'
                                   + f'ed._domainkey\tIN TXT "v=DKIM1; k=ed25519; p={ed_pub}"\n'
                                   + f"rsa._domainkey\tIN TXT {nsd.txt('v=DKIM1; k=rsa; p=' + rsa_pub)}\n"),
            "quarantine.example": zone("quarantine.example", '@\tIN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                                       + '_dmarc\tIN TXT "v=DMARC1; p=quarantine"\n'),
            "none.example": zone("none.example", '@\tIN TXT "v=spf1 -all"\n'),
            "example.org": zone("example.org", '@\tIN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
                                + f"mox._domainkey\tIN TXT {nsd.txt(mox_record)}\n"),
            "0.0.127.in-addr.arpa": zone("0.0.127.in-addr.arpa", "1\tIN PTR mail.sender.example.\n"),
            "broken.example": None,
            # RFC 5782 5 test entry 127.0.0.2 in both lists; bl.test (the listener's) also lists
            # 127.0.0.3 and our NAT IP 198.51.100.7; monitor.test (MonitorDNSBLs) lists 127.0.0.5,
            # which must not keep its mail out.
            "bl.test": zone("bl.test", "2.0.0.127\tIN A 127.0.0.2\n2.0.0.127\tIN TXT \"test entry\"\n"
                            + "3.0.0.127\tIN A 127.0.0.2\n"
                            + '3.0.0.127\tIN TXT "listed, see" " https://bl.test/127.0.0.3"\n'
                            + "7.100.51.198\tIN A 127.0.0.2\n"),
            "monitor.test": zone("monitor.test", "2.0.0.127\tIN A 127.0.0.2\n5.0.0.127\tIN A 127.0.0.2\n"),
        })
        cls.addClassCleanup(cls.nsd.stop)
        cls.resolv = cls.nsd.resolv_conf("nsd")
        cls.env = dict(os.environ, MOXRESOLVCONF=cls.resolv)

        cls.mox("config", "test")
        cls.mox("setaccountpassword", "mjl", stdin="secret123\n")
        cls.log = open(os.path.join(d, "server.log"), "w")
        cls.proc = subprocess.Popen([MOX, "-config", os.path.join(cls.config, "mox.conf"), "serve"],
                                    stdout=cls.log, stderr=subprocess.STDOUT, env=cls.env)
        cls.addClassCleanup(cls.stop_server)
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", SMTP_PORT), timeout=1).close()
                break
            except OSError:
                if cls.proc.poll() is not None or time.time() > deadline:
                    with open(os.path.join(d, "server.log")) as f:
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
    def mox(cls, *args, stdin=None, expect=0):
        p = subprocess.run([MOX, "-config", os.path.join(cls.config, "mox.conf"), *args],
                           input=stdin, capture_output=True, text=True, env=getattr(cls, "env", None))
        if p.returncode != expect:
            raise AssertionError(f"mox {' '.join(args)}: exit {p.returncode}: {p.stdout}{p.stderr}")
        return p.stdout

    def stored(self, mailbox="Inbox"):
        out = tempfile.mkdtemp(prefix="export-", dir=self.dir)
        try:
            self.mox("export", "maildir", "-single", out, os.path.join(self.config, "data", "accounts", "mjl"), mailbox)
            cur = os.path.join(out, mailbox, "cur")
            messages = []
            for name in sorted(os.listdir(cur)):
                with open(os.path.join(cur, name), "rb") as f:
                    messages.append(f.read())
            return messages
        except AssertionError:
            return []
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def find(self, subject, mailbox="Inbox"):
        found = [m for m in self.stored(mailbox) if subject.encode() in m]
        self.assertEqual(len(found), 1, f"{subject} in {mailbox}")
        return found[0]

    def message(self, sender, subject):
        return (f"From: Sender <{sender}>\r\nTo: <mjl@example.org>\r\nSubject: {subject}\r\n"
                f"Date: Mon, 7 Dec 2026 01:00:00 +0000\r\nMessage-Id: <{subject}@test>\r\n\r\n"
                f"Hello  there.\r\n").encode()

    def signed(self, sender, subject):
        msg = self.message(sender, subject)
        headers = [b"from", b"to", b"subject", b"date", b"message-id"]
        ed = dkim.sign(msg, b"ed", b"sender.example", base64.b64encode(self.ed_key.encode()),
                       canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=b"ed25519-sha256",
                       include_headers=headers)
        rsa = dkim.sign(msg, b"rsa", b"sender.example", self.rsa_key, canonicalize=(b"simple", b"simple"),
                        include_headers=headers)
        return rsa + ed + msg

    def send(self, data, mail_from, source="127.0.0.1", helo="mail.sender.example"):
        with smtplib.SMTP("127.0.0.1", SMTP_PORT, source_address=(source, 0), timeout=60) as s:
            s.ehlo(helo)
            s.mail(mail_from)
            self.assertEqual(s.rcpt("mjl@example.org")[0], 250)
            # smtplib raises only for the reply to DATA itself; the final reply is returned.
            return s.data(data)

    def test_signed_aligned_message_passes_everything(self):
        subject = f"pass-{time.time()}"
        code, _ = self.send(self.signed("news@sender.example", subject), "bounce@sender.example")
        self.assertEqual(code, 250)
        stored = self.find(subject)
        (ar,) = auth_results(stored)
        self.assertEqual(ar.authserv_id, "mail.example.org")
        by = {}
        for r in ar.results:
            by.setdefault(r.method, []).append(r)
        self.assertEqual(by["iprev"][0].result, "pass")
        self.assertEqual(props(by["iprev"][0])["policy.iprev"], "127.0.0.1")
        self.assertEqual(by["spf"][0].result, "pass")
        self.assertEqual(props(by["spf"][0])["smtp.mailfrom"], "sender.example")
        self.assertEqual(sorted((props(r)["header.s"], r.result) for r in by["dkim"]), [("ed", "pass"), ("rsa", "pass")])
        for r in by["dkim"]:
            self.assertEqual(props(r)["header.d"], "sender.example")
        self.assertEqual(by["dmarc"][0].result, "pass")
        self.assertEqual(props(by["dmarc"][0])["header.from"], "sender.example")
        self.assertIn(b"2048 bit rsa", stored)
        self.assertIn(b"Received-SPF: pass (domain sender.example)", stored)
        # The Received header names the client by its confirmed reverse name only when it
        # differs from EHLO; here they agree.
        self.assertRegex(stored, rb"Received: from mail\.sender\.example \(\[127\.0\.0\.1\]\)")

    def test_dmarc_reject_refuses_spoof(self):
        # From a p=reject domain, unsigned, from an IP its SPF does not allow.
        subject = f"spoof-{time.time()}"
        code, text = self.send(self.message("ceo@sender.example", subject), "ceo@sender.example",
                               source="127.0.0.2", helo="spoofer.none.example")
        self.assertEqual(code, 550, text)
        self.assertTrue(text.startswith(b"5.7.1"), text)
        self.assertFalse(any(subject.encode() in m for m in self.stored()))
        # A signature that no longer verifies does not help.
        signed = self.signed("ceo@sender.example", subject).replace(b"Hello  there.", b"Send money.")
        code, _ = self.send(signed, "ceo@sender.example", source="127.0.0.2", helo="spoofer.none.example")
        self.assertEqual(code, 550)

    def test_dmarc_quarantine_goes_to_junk(self):
        subject = f"quarantine-{time.time()}"
        code, _ = self.send(self.message("a@quarantine.example", subject), "a@quarantine.example",
                            source="127.0.0.2", helo="x.none.example")
        self.assertEqual(code, 250)
        stored = self.find(subject, "Junk")
        (ar,) = auth_results(stored)
        results = {r.method: r.result for r in ar.results}
        self.assertEqual(results["spf"], "fail")
        self.assertEqual(results["dmarc"], "fail")
        self.assertEqual(results["dkim"], "none")
        self.assertEqual(results["iprev"], "permerror")

    def test_no_dmarc_policy_is_delivered(self):
        subject = f"nopolicy-{time.time()}"
        code, _ = self.send(self.message("a@none.example", subject), "a@none.example", source="127.0.0.4",
                            helo="x.none.example")
        self.assertEqual(code, 250)
        (ar,) = auth_results(self.find(subject))
        self.assertEqual({r.method: r.result for r in ar.results}["dmarc"], "none")

    def test_dns_failure_is_temporary(self):
        # broken.example's server answers SERVFAIL: no verdict, so try again later (never 550).
        subject = f"servfail-{time.time()}"
        code, text = self.send(self.message("a@broken.example", subject), "a@broken.example", source="127.0.0.4",
                               helo="x.none.example")
        self.assertEqual(code, 451, text)
        self.assertTrue(text.startswith(b"4.7.0"), text)

    def test_dnsbl_listing_is_refused_temporarily(self):
        # Listed in the listener's DNSBL: 451 4.3.0, as mox answers (the reason is not told).
        subject = f"listed-{time.time()}"
        code, text = self.send(self.message("a@none.example", subject), "a@none.example", source="127.0.0.3",
                               helo="x.none.example")
        self.assertEqual((code, text), (451, b"4.3.0 error processing"))
        self.assertFalse(any(subject.encode() in m for m in self.stored()))
        # Listed only in MonitorDNSBLs: delivered.
        subject = f"monitoronly-{time.time()}"
        code, _ = self.send(self.message("a@none.example", subject), "a@none.example", source="127.0.0.5",
                            helo="x.none.example")
        self.assertEqual(code, 250)
        self.find(subject)
        metrics = self.metrics()
        self.assertIn('mox_smtpserver_delivery_total{result="reject",reason="dns-blocklisted"} 1', metrics)
        self.assertRegex(metrics, r'mox_dnsbl_lookup_duration_seconds_count\{zone="bl.test",status="fail"\} [1-9]')

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10) as r:
            return r.read().decode()

    def test_dnsbl_monitor_shows_our_listing_in_metrics(self):
        # Checked at start, one lookup a second: 4 pairs of zone and IP.
        want = {
            ("bl.test", "198.51.100.7"): 0,
            ("bl.test", "198.51.100.8"): 1,
            ("monitor.test", "198.51.100.7"): 1,
            ("monitor.test", "198.51.100.8"): 1,
        }
        deadline = time.time() + 60
        while True:
            metrics = self.metrics()
            found = {}
            for m in re.finditer(r'^mox_dnsbl_ips_success\{zone="([^"]+)",ip="([^"]+)"\} (\S+)$', metrics, re.M):
                found[(m.group(1), m.group(2))] = float(m.group(3))
            if found == want or time.time() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(found, want)
        self.assertIn("# HELP mox_dnsbl_ips_success DNSBL lookups to configured DNSBLs of our IPs.", metrics)
        with open(os.path.join(self.dir, "server.log")) as f:
            log = f.read()
        self.assertRegex(log, r"l=error m=\"our ip is listed in dnsbl\".*ip=198\.51\.100\.7.*zone=bl\.test")

    def test_dnsbl_commands(self):
        out = self.mox("dnsbl", "check", "bl.test", "127.0.0.3")
        self.assertEqual(out, 'status: fail\nexplanation: "listed, see https://bl.test/127.0.0.3"\n')
        self.assertEqual(self.mox("dnsbl", "check", "bl.test", "127.0.0.4"), "status: pass\n")
        out = self.mox("dnsbl", "check", "broken.example", "127.0.0.4")
        self.assertTrue(out.startswith("status: temperror\nerror: dnsbl: dns error: "), out)
        self.assertEqual(self.mox("dnsbl", "checkhealth", "bl.test"), "healthy\n")
        p = subprocess.run([MOX, "dnsbl", "checkhealth", "none.example"], capture_output=True, text=True, env=self.env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("unhealthy: dnsbl does not contain required test address 127.0.0.2", p.stderr)
        p = subprocess.run([MOX, "dnsbl", "check", "bl.test", "not-an-ip"], capture_output=True, text=True, env=self.env)
        self.assertEqual(p.returncode, 1)
        self.assertIn('invalid ip "not-an-ip"', p.stderr)

    def test_submission_is_signed_and_verifies_with_dkimpy(self):
        subject = f"submitted-{time.time()}"
        with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT, timeout=60) as s:
            s.starttls(context=tls_context())
            s.login("mjl@example.org", "secret123")
            s.sendmail("mjl@example.org", ["mjl@example.org"],
                       f"From: <mjl@example.org>\r\nTo: <mjl@example.org>\r\nSubject: {subject}\r\n\r\nSigned.\r\n")
        stored = self.find(subject)
        self.assertRegex(stored, rb"DKIM-Signature: v=1; d=example.org; s=mox; i=mjl@example.org;\s+a=ed25519-sha256;")
        (ar,) = auth_results(stored)
        self.assertEqual([(r.method, r.result) for r in ar.results], [("auth", "pass")])
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [NSD_IP]

        def dnsfunc(name, timeout=5):
            answer = resolver.resolve(name.decode(), "TXT")
            return b"".join(b"".join(r.strings) for r in answer)

        self.assertTrue(dkim.verify(stored, dnsfunc=dnsfunc))
        self.assertFalse(dkim.verify(stored.replace(b"Signed.", b"Changed."), dnsfunc=dnsfunc))

    def test_commands_against_nsd(self):
        path = os.path.join(self.dir, "signed.eml")
        with open(path, "wb") as f:
            f.write(self.signed("news@sender.example", "command"))
        out = self.mox("dkim", "verify", path)
        self.assertEqual(out.count('status "pass", err <nil>'), 2, out)
        out = self.mox("dmarc", "lookup", "sub.sender.example")
        self.assertEqual(out, "dmarc record at domain sender.example: v=DMARC1; p=reject\n(without dnssec)\n")
        with open(path, "rb") as f:
            data = f.read()
        p = subprocess.run([MOX, "dmarc", "verify", "127.0.0.1", "bounce@sender.example", "mail.sender.example"],
                           input=data, capture_output=True, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        self.assertIn("spf result: sender.example: pass", out)
        self.assertIn('dmarc status: "pass"', out)
        self.assertIn("dmarc reject: false", out)
        p = subprocess.run([MOX, "dmarc", "verify", "127.0.0.2", "x@none.example", "x.none.example"],
                           input=self.message("ceo@sender.example", "spoof"), capture_output=True, env=self.env)
        out = p.stdout.decode()
        self.assertIn('dmarc status: "fail"', out)
        self.assertIn("dmarc reject: true", out)
        self.assertIn("dmarc record: v=DMARC1;p=reject", out)
        self.mox("dmarc", "lookup", "none.example", expect=1)


if __name__ == "__main__":
    unittest.main()
