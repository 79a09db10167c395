"""DKIM against dkimpy (PyPI): messages signed by `mox dkim sign` with localserve's Ed25519 key
and with a generated RSA key verify with dkimpy, both canonicalizations, and a changed message
does not. dkimpy gets the key record that `mox dkim txt` prints, through its dnsfunc hook."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import MOX

try:
    import dkim
    import nacl  # noqa: F401 - dkimpy needs PyNaCl for Ed25519
except ImportError:  # pragma: no cover - make test-deps installs dkimpy and pynacl
    dkim = None

MESSAGE = (b"From: Mox <mox@localhost>\r\nTo: x@example.org\r\nSubject: a  test\r\n"
           b"Date: Mon, 7 Dec 2026 01:00:00 +0000\r\nMessage-Id: <a@localhost>\r\n\r\nHello  there.\r\n\r\n")


@unittest.skipIf(dkim is None, "dkimpy and pynacl not installed")
class DKIMTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mox-dkim-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        subprocess.run([MOX, "localserve", "-dir", self.dir, "-initonly"], check=True, capture_output=True)
        self.conf = os.path.join(self.dir, "mox.conf")
        self.domains = os.path.join(self.dir, "domains.conf")
        self.msg = os.path.join(self.dir, "msg.eml")
        with open(self.msg, "wb") as f:
            f.write(MESSAGE)

    def txt(self, keyfile):
        with open(keyfile, "rb") as f:
            out = subprocess.run([MOX, "dkim", "txt"], stdin=f, capture_output=True, check=True).stdout.decode()
        return "".join(re.findall(r'"([^"]*)"', out)).encode()

    def sign(self):
        r = subprocess.run([MOX, "-config", self.conf, "dkim", "sign", self.msg], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith(MESSAGE))
        return r.stdout

    def verify(self, signed, records):
        return dkim.verify(signed, dnsfunc=lambda name, timeout=5: records[name])

    def test_ed25519_from_localserve_verifies_with_dkimpy(self):
        record = self.txt(os.path.join(self.dir, "dkim.localserve.privatekey.pkcs8.pem"))
        self.assertTrue(record.startswith(b"v=DKIM1;h=sha256;k=ed25519;t=s;p="), record)
        signed = self.sign()
        records = {b"localserve._domainkey.localhost.": record}
        self.assertTrue(self.verify(signed, records))
        self.assertFalse(self.verify(signed.replace(b"Hello", b"Hallo"), records))
        self.assertFalse(self.verify(signed.replace(b"Subject: a  test", b"Subject: a test!"), records))

    def test_rsa_relaxed_verifies_with_dkimpy(self):
        key = os.path.join(self.dir, "rsa.pem")
        with open(key, "wb") as f:
            f.write(subprocess.run([MOX, "dkim", "genrsa"], capture_output=True, check=True).stdout)
        text = open(self.domains).read()
        text = text.replace("\t\t\tSign:\n\t\t\t\t- localserve\n",
                            "\t\t\t\trsa:\n\t\t\t\t\tCanonicalization:\n\t\t\t\t\t\tHeaderRelaxed: true\n"
                            "\t\t\t\t\t\tBodyRelaxed: true\n\t\t\t\t\tPrivateKeyFile: rsa.pem\n"
                            "\t\t\tSign:\n\t\t\t\t- localserve\n\t\t\t\t- rsa\n")
        with open(self.domains, "w") as f:
            f.write(text)
        signed = self.sign()
        self.assertEqual(signed.count(b"DKIM-Signature:"), 2)
        records = {b"localserve._domainkey.localhost.": self.txt(os.path.join(self.dir, "dkim.localserve.privatekey.pkcs8.pem")),
                   b"rsa._domainkey.localhost.": self.txt(key)}
        # dkimpy checks the first signature: put the RSA one alone in front.
        sigs = re.split(rb"(?=DKIM-Signature:)", signed[:len(signed) - len(MESSAGE)])[1:]
        rsa_first = [s for s in sigs if b"s=rsa" in s][0] + MESSAGE
        self.assertTrue(self.verify(rsa_first, records))
        # Relaxed: whitespace changes still verify.
        self.assertTrue(self.verify(rsa_first.replace(b"Hello  there.", b"Hello there.  "), records))


if __name__ == "__main__":
    unittest.main()
