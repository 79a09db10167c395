"""`mox dns lookup` against a real authoritative DNS server: nsd (Debian), started by the test on
a loopback address of its own, serving test zones. Covers every record type the command knows,
CNAME chains, a TXT set too large for UDP (answered truncated, then over TCP), NXDOMAIN and
NODATA, SERVFAIL (a zone nsd cannot load), REFUSED (a zone it does not serve), and a server that
drops every packet (a timeout, then the next server of resolv.conf).

The resolver reads the servers from the file in $MOXRESOLVCONF instead of /etc/resolv.conf.
resolv.conf has no port, so nsd listens on port 53 of 127.0.0.153: the test needs root (CI runs
as root) and nsd (`make test-deps` installs it).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import MOX
import nsd

NSD_IP = "127.0.0.153"
SILENT_IP = "127.0.0.154"

BIG_TXT = ["big record %02d " % i + "x" * 180 for i in range(12)]

ZONE = """\
$ORIGIN test.example.
$TTL 300
@	IN SOA ns.test.example. hostmaster.test.example. 1 3600 600 86400 60
@	IN NS ns.test.example.
ns	IN A 127.0.0.153
@	IN MX 20 mx2.test.example.
@	IN MX 10 mx1.test.example.
@	IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
@	IN A 192.0.2.10
@	IN AAAA 2001:db8::10
mx1	IN A 192.0.2.1
mx2	IN A 192.0.2.2
www	IN CNAME web.test.example.
web	IN CNAME test.example.
_dmarc	IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@test.example"
sel._domainkey	IN TXT ( "v=DKIM1; k=ed25519; " "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" )
_submissions._tcp	IN SRV 0 1 465 mail.test.example.
_imaps._tcp	IN SRV 0 1 993 mail.test.example.
_25._tcp.mx1	IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
only-a	IN A 192.0.2.20
; SPF policies for the comparison with pyspf.
spf-ip	IN TXT "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8:1::/48 -all"
spf-a	IN TXT "v=spf1 a:mx1.test.example a/30 ~all"
spf-a	IN A 198.51.100.4
spf-mx	IN TXT "v=spf1 mx:test.example ?all"
spf-inc	IN TXT "v=spf1 include:spf-ip.test.example include:spf-a.test.example -all"
spf-redir	IN TXT "v=spf1 redirect=spf-ip.test.example"
spf-exists	IN TXT "v=spf1 exists:%{ir}.allow.test.example -all"
7.2.0.192.allow	IN A 127.0.0.2
spf-ptr	IN TXT "v=spf1 ptr:test.example -all"
spf-two	IN TXT "v=spf1 -all"
spf-two	IN TXT "v=spf1 +all"
spf-bad	IN TXT "v=spf1 ip4:192.0.2.1/40 -all"
spf-loop	IN TXT "v=spf1 include:spf-loop.test.example -all"
spf-void	IN TXT "v=spf1 a:v1.test.example a:v2.test.example a:v3.test.example -all"
spf-none	IN TXT "not spf"
spf-exp	IN TXT "v=spf1 ip4:192.0.2.1 exp=why.test.example -all"
why	IN TXT "%{i} is not allowed to send for %{d}"
spf-servfail	IN TXT "v=spf1 include:broken.example -all"
""" + "".join(f'big\tIN TXT "{t}"\n' for t in BIG_TXT)

REVERSE = """\
$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@	IN SOA ns.test.example. hostmaster.test.example. 1 3600 600 86400 60
@	IN NS ns.test.example.
10	IN PTR test.example.
"""


@unittest.skipUnless(nsd.available(), "needs root (port 53 on a loopback address) and nsd")
class DNSLookupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mox-dns-")
        # broken.example: a zone nsd cannot load, answered with SERVFAIL.
        cls.nsd = nsd.NSD(cls.dir, NSD_IP, {"test.example": ZONE, "2.0.192.in-addr.arpa": REVERSE, "broken.example": None})
        # A server that reads queries and never answers.
        cls.silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.silent.bind((SILENT_IP, 53))
        cls.silent_count = 0

        def drain():
            while True:
                try:
                    cls.silent.recvfrom(4096)
                    cls.silent_count += 1
                except OSError:
                    return
        threading.Thread(target=drain, daemon=True).start()
        cls.resolv = cls.resolv_conf("nsd", [NSD_IP])

    @classmethod
    def tearDownClass(cls):
        cls.nsd.stop()
        cls.silent.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def resolv_conf(cls, name, servers, options="timeout:1 attempts:1"):
        return cls.nsd.resolv_conf(name, servers, options)

    def mox(self, *args, resolv=None, expect=0):
        """Runs `mox ARGS` against nsd (or the servers of `resolv`): (stdout, stderr)."""
        env = dict(os.environ, MOXRESOLVCONF=resolv or self.resolv)
        r = subprocess.run([MOX, *args], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, expect, f"mox {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout, r.stderr

    def lookup(self, *args, resolv=None, expect=0):
        return self.mox("dns", "lookup", *args, resolv=resolv, expect=expect)

    def test_mx_sorted_by_preference(self):
        out, _ = self.lookup("mx", "test.example")
        self.assertEqual(out, "mx records (2, without dnssec):\n"
                              "- mx1.test.example., preference 10\n"
                              "- mx2.test.example., preference 20\n")

    def test_txt_spf_dmarc_and_dkim_strings_joined(self):
        out, _ = self.lookup("txt", "test.example.")
        self.assertEqual(out, "txt records (1, without dnssec):\n- v=spf1 ip4:192.0.2.0/24 -all\n")
        out, _ = self.lookup("txt", "_dmarc.test.example")
        self.assertIn("- v=DMARC1; p=reject; rua=mailto:dmarc@test.example\n", out)
        # RFC 6376 3.6.2.2: the strings of one record are joined without separator.
        out, _ = self.lookup("txt", "sel._domainkey.test.example")
        self.assertIn("- v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n", out)

    def test_truncated_answer_retried_over_tcp(self):
        # 12 records of about 200 octets: more than the 1232 octets advertised over UDP.
        out, _ = self.lookup("txt", "big.test.example")
        lines = out.splitlines()
        self.assertEqual(lines[0], "txt records (12, without dnssec):")
        self.assertEqual(sorted(l[2:] for l in lines[1:]), sorted(BIG_TXT))

    def test_addresses_cname_chain_and_families(self):
        out, _ = self.lookup("ips", "www.test.example")
        self.assertEqual(out, "records (2, without dnssec):\n- 2001:db8::10\n- 192.0.2.10\n")
        out, _ = self.lookup("a", "www.test.example")
        self.assertEqual(out, "records (1, without dnssec):\n- 192.0.2.10\n")
        out, _ = self.lookup("aaaa", "test.example")
        self.assertEqual(out, "records (1, without dnssec):\n- 2001:db8::10\n")
        out, _ = self.lookup("cname", "www.test.example")
        self.assertEqual(out, "web.test.example. (without dnssec)\n")
        # Only an A record: "ips" still answers; "aaaa" finds none.
        out, _ = self.lookup("ips", "only-a.test.example")
        self.assertEqual(out, "records (1, without dnssec):\n- 192.0.2.20\n")
        _, err = self.lookup("aaaa", "only-a.test.example", expect=1)
        self.assertIn("no record of that type", err)

    def test_ptr_ns_srv_tlsa(self):
        out, _ = self.lookup("ptr", "192.0.2.10")
        self.assertEqual(out, "names (1, without dnssec):\n- test.example.\n")
        out, _ = self.lookup("ns", "test.example")
        self.assertEqual(out, "ns records (1, without dnssec):\n- ns.test.example.\n")
        out, _ = self.lookup("srv", "_submissions._tcp.test.example")
        self.assertEqual(out, "srv records (1, without dnssec):\n- host mail.test.example., port 465, priority 0, weight 1\n")
        out, _ = self.lookup("tlsa", "_25._tcp.mx1.test.example")
        self.assertEqual(out, 'tlsa records (1, without dnssec):\n- usage "dane-ee" (3), selector "spki" (1), '
                              'matchtype "sha2-256" (1), certificate association data '
                              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n")

    def test_nxdomain_servfail_refused(self):
        _, err = self.lookup("txt", "nope.test.example", expect=1)
        self.assertIn("no such domain", err)
        _, err = self.lookup("txt", "broken.example", expect=1)
        self.assertIn("SERVFAIL", err)
        _, err = self.lookup("txt", "elsewhere.example", expect=1)
        self.assertIn("REFUSED", err)

    def test_silent_server_times_out_then_next_server(self):
        both = self.resolv_conf("silent-first", [SILENT_IP, NSD_IP])
        started = time.time()
        out, _ = self.lookup("mx", "test.example", resolv=both)
        took = time.time() - started
        self.assertIn("- mx1.test.example., preference 10\n", out)
        self.assertGreaterEqual(took, 0.9, "the silent server was asked first and waited for")
        alone = self.resolv_conf("silent", [SILENT_IP])
        before = self.silent_count
        started = time.time()
        _, err = self.lookup("mx", "test.example", resolv=alone, expect=1)
        self.assertIn("timeout", err)
        self.assertLess(time.time() - started, 10)
        self.assertGreaterEqual(self.silent_count - before, 1)

    # (domain, ip): results of `mox spf check` and pyspf must agree.
    SPF_CASES = [
        ("spf-ip.test.example", "192.0.2.5"), ("spf-ip.test.example", "192.0.2.200"),
        ("spf-ip.test.example", "2001:db8:1::9"), ("spf-ip.test.example", "::ffff:192.0.2.5"),
        ("spf-a.test.example", "192.0.2.1"), ("spf-a.test.example", "198.51.100.6"), ("spf-a.test.example", "198.51.100.9"),
        ("spf-mx.test.example", "192.0.2.2"), ("spf-mx.test.example", "192.0.2.3"),
        ("spf-inc.test.example", "192.0.2.5"), ("spf-inc.test.example", "192.0.2.1"), ("spf-inc.test.example", "203.0.113.1"),
        ("spf-redir.test.example", "192.0.2.5"), ("spf-redir.test.example", "203.0.113.1"),
        ("spf-exists.test.example", "192.0.2.7"), ("spf-exists.test.example", "192.0.2.8"),
        ("spf-ptr.test.example", "192.0.2.10"), ("spf-ptr.test.example", "192.0.2.11"),
        ("spf-two.test.example", "192.0.2.1"), ("spf-bad.test.example", "192.0.2.1"),
        ("spf-loop.test.example", "192.0.2.1"), ("spf-void.test.example", "192.0.2.1"),
        ("spf-none.test.example", "192.0.2.1"), ("nxdomain.test.example", "192.0.2.1"),
        ("spf-exp.test.example", "192.0.2.9"), ("spf-servfail.test.example", "192.0.2.1"),
    ]

    def test_spf_check_agrees_with_pyspf(self):
        try:
            import dns.resolver
            import spf
        except ImportError:
            self.skipTest("pyspf and dnspython (make test-deps installs them)")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [NSD_IP]
        resolver.lifetime = 5
        dns.resolver.default_resolver = resolver
        for domain, ip in self.SPF_CASES:
            with self.subTest(domain=domain, ip=ip):
                theirs = spf.check2(i=ip, s=f"user@{domain}", h=domain, querytime=5)[0]
                out, _ = self.lookup_spf("check", domain, ip)
                status = [l for l in out.splitlines() if l.startswith("status: ")]
                self.assertEqual(len(status), 1, out)
                ours = status[0].split()[1]
                self.assertEqual(ours, theirs, f"spf check {domain} {ip}:\n{out}")
        out, _ = self.lookup_spf("check", "nxdomain.test.example", "192.0.2.1")
        self.assertIn("status: none (without dnssec)\n", out)
        out, _ = self.lookup_spf("check", "spf-exp.test.example", "192.0.2.9")
        self.assertIn("explanation: 192.0.2.9 is not allowed to send for spf-exp.test.example\n", out)
        self.assertIn("mechanism: all\n", out)

    def test_spf_lookup_and_parse(self):
        out, _ = self.lookup_spf("lookup", "spf-ip.test.example")
        self.assertEqual(out, "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8:1::/48 -all\n(without dnssec)\n")
        _, err = self.lookup_spf("lookup", "spf-two.test.example", expect=1)
        self.assertIn("multiple spf records", err)
        _, err = self.lookup_spf("lookup", "spf-none.test.example", expect=1)
        self.assertIn("no spf record", err)
        self.lookup_spf("parse", "v=spf1 mx a:%{d} -all")
        _, err = self.lookup_spf("parse", "v=spf1 ip4:192.0.2.1/40", expect=1)
        self.assertIn("cidr length", err)

    def lookup_spf(self, *args, expect=0):
        return self.mox("spf", *args, expect=expect)

    def test_bad_input(self):
        _, err = self.lookup("bogus", "test.example", expect=1)
        self.assertIn('unknown record type "bogus"', err)
        _, err = self.lookup("ptr", "not-an-ip", expect=1)
        self.assertIn("invalid ip address", err)
        _, err = self.lookup("txt", "a..b", expect=1)
        self.assertIn("empty label", err)


if __name__ == "__main__":
    unittest.main()
