"""`mox config dnsrecords` and `mox config dnscheck` against a real authoritative DNS server:
the records dnsrecords prints are loaded into nsd (Debian) as they are, which checks their
zone-file syntax, and dnscheck over that zone then finds nothing wrong but the missing DNSSEC.
A domain whose zone is not published gets errors, and a domain without DKIM keys whose zone lacks
its DMARC record gets exactly those errors.

nsd listens on port 53 of 127.0.0.156, so the test needs root (CI runs as root) and nsd
(`make test-deps`).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import MOX
import nsd

NSD_IP = "127.0.0.156"

MOX_CONF = f"""DataDir: data
LogLevel: info
User: {os.getuid()}
Hostname: mail.example.org
HostTLSRPT:
	Account: mjl
	Mailbox: TLSRPT
	Localpart: tlsrpt-host
Listeners:
	public:
		IPs:
			- 127.0.0.1
		NATIPs:
			- 198.51.100.7
			- 2001:db8::7
		TLS:
			KeyCerts:
				-
					CertFile: localhost.crt
					KeyFile: localhost.key
		SMTP:
			Enabled: true
			Port: 11125
		MTASTSHTTPS:
			Enabled: true
			Port: 11443
Postmaster:
	Account: mjl
	Mailbox: Postmaster
"""

DOMAINS_CONF = """Domains:
	example.org:
		ClientSettingsDomain: mail.example.org
		DKIM:
			Selectors:
				ed:
					PrivateKeyFile: dkim.ed.pem
				rsa:
					PrivateKeyFile: dkim.rsa.pem
			Sign:
				- ed
		DMARC:
			Localpart: dmarc-reports
			Account: mjl
			Mailbox: DMARC
		TLSRPT:
			Localpart: tls-reports
			Account: mjl
			Mailbox: TLSRPT
		MTASTS:
			PolicyID: 20261207T000000
			Mode: enforce
			MaxAge: 24h
	broken.example: nil
	unpublished.example: nil
Accounts:
	mjl:
		Domain: example.org
		Destinations:
			mjl@example.org: nil
"""

SOA = "@\tIN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 60\n@\tIN NS ns.example.org.\n"


@unittest.skipUnless(nsd.available(), "needs root and nsd")
class DNSRecordsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mox-dnsrecords-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.config = os.path.join(cls.dir, "config")
        os.mkdir(cls.config)
        init = os.path.join(cls.dir, "init")
        subprocess.run([MOX, "localserve", "-dir", init, "-initonly"], check=True, capture_output=True)
        for name in ("localhost.crt", "localhost.key"):
            shutil.copy(os.path.join(init, name), cls.config)
        for name, command in (("dkim.ed.pem", "gened25519"), ("dkim.rsa.pem", "genrsa")):
            key = subprocess.run([MOX, "dkim", command], check=True, capture_output=True).stdout
            with open(os.path.join(cls.config, name), "wb") as f:
                f.write(key)
        with open(os.path.join(cls.config, "mox.conf"), "w") as f:
            f.write(MOX_CONF)
        with open(os.path.join(cls.config, "domains.conf"), "w") as f:
            f.write(DOMAINS_CONF)
        cls.mox("config", "test")
        # Before nsd runs: a resolver that gets no answer (the port is closed), so no DNSSEC.
        nowhere = os.path.join(cls.dir, "resolv-nowhere.conf")
        with open(nowhere, "w") as f:
            f.write("nameserver 127.0.0.157\noptions timeout:1 attempts:1\n")
        offline = dict(os.environ, MOXRESOLVCONF=nowhere)
        cls.records = cls.mox("config", "dnsrecords", "example.org", env=offline)
        broken = cls.mox("config", "dnsrecords", "broken.example", env=offline)
        # broken.example has no DKIM keys configured, and leaves out its DMARC record.
        # The mail host's records belong in example.org's zone, not this one.
        broken = "\n".join(l for l in broken.splitlines()
                           if not l.startswith(("_dmarc.", "mail.example.org.", "_smtp._tls.mail.example.org."))) + "\n"
        ns = f"ns\tIN A {NSD_IP}\n"
        cls.nsd = nsd.NSD(cls.dir, NSD_IP, {
            # The printed records as they are, plus the host's addresses.
            "example.org": "$ORIGIN example.org.\n" + SOA + ns + "mail\tIN A 198.51.100.7\nmail\tIN AAAA 2001:db8::7\n"
                           + cls.records,
            "broken.example": "$ORIGIN broken.example.\n" + SOA + broken,
            "100.51.198.in-addr.arpa": "$ORIGIN 100.51.198.in-addr.arpa.\n$TTL 300\n" + SOA + "7\tIN PTR mail.example.org.\n",
            "8.b.d.0.1.0.0.2.ip6.arpa": "$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.\n$TTL 300\n" + SOA
                                        + "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0\tIN PTR mail.example.org.\n",
        })
        cls.addClassCleanup(cls.nsd.stop)
        cls.env = dict(os.environ, MOXRESOLVCONF=cls.nsd.resolv_conf("nsd"))

    @classmethod
    def mox(cls, *args, env=None, expect=0):
        p = subprocess.run([MOX, "-config", os.path.join(cls.config, "mox.conf"), *args],
                           capture_output=True, text=True, env=env or getattr(cls, "env", None), timeout=120)
        if p.returncode != expect:
            raise AssertionError(f"mox {' '.join(args)}: exit {p.returncode}: {p.stdout}{p.stderr}")
        return p.stdout

    def test_records(self):
        lines = [l for l in self.records.splitlines() if l and not l.startswith(";")]
        self.assertEqual(lines[0], "$TTL 300")
        body = "\n".join(lines)
        for want in [
            'mail.example.org.               TXT "v=spf1 a -all"',
            '_smtp._tls.mail.example.org.            TXT "v=TLSRPTv1; rua=mailto:tlsrpt-host@mail.example.org"',
            "example.org.                    MX 10 mail.example.org.",
            'example.org.                    TXT "v=spf1 ip4:198.51.100.7 ip6:2001:db8::7 mx ~all"',
            '_dmarc.example.org.             TXT "v=DMARC1;p=reject;rua=mailto:dmarc-reports@example.org!10m"',
            "mta-sts.example.org.            CNAME mail.example.org.",
            '_mta-sts.example.org.           TXT "v=STSv1; id=20261207T000000"',
            '_smtp._tls.example.org.         TXT "v=TLSRPTv1; rua=mailto:tls-reports@example.org"',
            "autoconfig.example.org.         CNAME mail.example.org.",
            "_autodiscover._tcp.example.org. SRV 0 1 443 mail.example.org.",
            "_imaps._tcp.example.org.        SRV 0 1 993 mail.example.org.",
            "_submissions._tcp.example.org.  SRV 0 1 465 mail.example.org.",
            "_imap._tcp.example.org.         SRV 0 0 0 .",
            "_pop3s._tcp.example.org.        SRV 0 0 0 .",
        ]:
            self.assertIn(want, body)
        self.assertRegex(body, r'ed\._domainkey\.example\.org\.   TXT "v=DKIM1;h=sha256;k=ed25519;p=[A-Za-z0-9+/=]{44}"')
        # The RSA key's record is split in strings of 100 characters inside parentheses.
        self.assertRegex(body, r'rsa\._domainkey\.example\.org\.   TXT \(\n \t\t"v=DKIM1;h=sha256;p=[^"]{81}"\n')

    def test_published_records_check_out(self):
        out = self.mox("config", "dnscheck", "example.org")
        # nsd does not sign the zone, so only DNSSEC is reported.
        self.assertEqual([l for l in out.splitlines() if l.startswith("#")], ["# DNSSEC"], out)
        self.assertNotIn("error:", out)

    def test_missing_dkim_and_dmarc(self):
        out = self.mox("config", "dnscheck", "broken.example")
        areas = {}
        current = None
        for line in out.splitlines():
            if line.startswith("# "):
                current = line[2:]
                areas[current] = []
            elif line:
                areas[current].append(line)
        self.assertIn("DMARC", areas)
        self.assertTrue(any(l.startswith("error: No DMARC record at _dmarc.broken.example") for l in areas["DMARC"]), areas)
        # The host's reverse names are fine; MX names the host.
        self.assertNotIn("IPRev", areas)
        self.assertNotIn("MX", areas)
        self.assertIn("DKIM", areas)
        self.assertIn("error: No DKIM selectors configured for broken.example: its mail is not signed.", areas["DKIM"])

    def test_unpublished_domain(self):
        out = self.mox("config", "dnscheck", "unpublished.example")
        self.assertIn("# MX", out)
        self.assertIn("# DMARC", out)
        self.assertIn("# SPF", out)

    def test_unknown_domain(self):
        p = subprocess.run([MOX, "-config", os.path.join(self.config, "mox.conf"), "config", "dnsrecords", "nope.example"],
                           capture_output=True, text=True, env=self.env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("domain nope.example not found in domains.conf", p.stderr)


if __name__ == "__main__":
    unittest.main()
