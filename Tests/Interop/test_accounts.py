"""End-to-end tests of the account, address, password, import and export commands of the built `mox`.

Run by `make test` after the Swift tests: python3 -m unittest discover -s Tests/Interop -v
Needs the debug binaries (swift build). Each test works on a copy of the quickstart configuration in a
temporary directory.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(ROOT, "Tests", "MailConfigTests", "Fixtures", "quickstart")


def bin_path():
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


MOX = os.path.join(bin_path(), "mox")

MBOX = (
    "From alice@example.org Wed Nov 25 07:45:23 2026\n"
    "Status: R\n"
    "X-Status: F\n"
    "Subject: first\n"
    "\n"
    "hello\n"
    ">From quoted\n"
    "\n"
    "From bob@example.org Thu Jan  1 00:00:00 2015\n"
    "Subject: second\n"
    "\n"
    "bye\n"
    "\n"
)


class AccountCommandsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mox-accounts-test-")
        self.config = os.path.join(self.dir, "config")
        shutil.copytree(FIXTURE, self.config)
        # The fixture's DataDir is ../data, relative to the config directory.
        self.data = os.path.join(self.dir, "data")
        self.domains = os.path.join(self.config, "domains.conf")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def mox(self, *args, stdin=None, ok=True):
        p = subprocess.run(
            [MOX, "-config", os.path.join(self.config, "mox.conf"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            self.assertEqual(p.returncode, 0, f"mox {' '.join(args)}: {p.stdout}{p.stderr}")
        else:
            self.assertNotEqual(p.returncode, 0, f"mox {' '.join(args)} should fail: {p.stdout}")
        return p

    def read_domains(self):
        with open(self.domains, encoding="utf-8") as f:
            return f.read()

    def test_accounts_and_addresses(self):
        before = self.read_domains()
        self.assertEqual(self.mox("config", "account", "list").stdout.split(), ["alice", "mjl"])

        self.mox("config", "account", "add", "bob", "bob@example.org")
        self.assertEqual(self.mox("config", "account", "list").stdout.split(), ["alice", "bob", "mjl"])
        self.assertEqual(self.mox("config", "account", "addresses", "bob").stdout.split(), ["bob@example.org"])
        self.assertTrue(os.path.exists(os.path.join(self.data, "accounts", "bob", "index.db")))
        self.mox("config", "test")

        self.mox("config", "address", "add", "robert@example.org", "bob")
        self.mox("config", "address", "add", "@example.org", "bob")
        self.assertEqual(
            self.mox("config", "account", "addresses", "bob").stdout.split(),
            ["@example.org", "bob@example.org", "robert@example.org"],
        )
        p = self.mox("config", "address", "add", "mjl@example.org", "bob", ok=False)
        self.assertIn("already a destination", p.stderr)
        self.mox("config", "address", "rm", "Robert@example.org")
        self.mox("config", "address", "rm", "@example.org")
        self.assertEqual(self.mox("config", "account", "addresses", "bob").stdout.split(), ["bob@example.org"])
        p = self.mox("config", "address", "rm", "bob@example.org", ok=False)
        self.assertIn("last address", p.stderr)

        self.mox("config", "account", "rm", "bob")
        self.assertEqual(self.mox("config", "account", "list").stdout.split(), ["alice", "mjl"])
        self.assertFalse(os.path.exists(os.path.join(self.data, "accounts", "bob")))
        # Everything else, comments included, is as it was.
        self.assertEqual(self.read_domains(), before)

    def test_invalid_edits_change_nothing(self):
        before = self.read_domains()
        p = self.mox("config", "account", "add", "carl", "carl@unknown.example", ok=False)
        self.assertIn("unknown domain", p.stderr)
        p = self.mox("config", "account", "add", "mjl", "x@example.org", ok=False)
        self.assertIn("already exists", p.stderr)
        p = self.mox("config", "account", "rm", "nobody", ok=False)
        self.assertIn("does not exist", p.stderr)
        self.assertEqual(self.read_domains(), before)
        self.assertEqual([n for n in os.listdir(self.config) if "tmp" in n], [])

    def test_password_import_export(self):
        self.mox("config", "account", "add", "bob", "bob@example.org")
        self.assertIn("password set", self.mox("setaccountpassword", "bob", stdin="secret\n").stdout)
        self.mox("setaccountpassword", "bob", stdin="\n", ok=False)

        mbox = os.path.join(self.dir, "in.mbox")
        with open(mbox, "w", encoding="utf-8") as f:
            f.write(MBOX)
        out = self.mox("import", "mbox", "bob", "Old", mbox).stdout
        self.assertIn("2 messages imported into Old (mailbox created)", out)
        self.assertIn("all counts were correct", self.mox("recalculatemailboxcounts", "bob").stdout)

        # Export works on the account directory, without the configuration.
        dst = os.path.join(self.dir, "export")
        p = subprocess.run(
            [MOX, "export", "maildir", "-single", dst, os.path.join(self.data, "accounts", "bob"), "Old"],
            capture_output=True,
            text=True,
            check=True,
        )
        self.assertIn("2 messages in 1 mailboxes exported", p.stdout)
        cur = os.path.join(dst, "Old", "cur")
        names = sorted(os.listdir(cur))
        self.assertEqual(names, ["1420070400.2.mox:2,", "1795592723.1.mox:2,FS"])
        with open(os.path.join(cur, names[1]), encoding="utf-8") as f:
            self.assertEqual(f.read(), "Subject: first\n\nhello\nFrom quoted\n")

        # The Maildir imports again, flags included.
        out = self.mox("import", "maildir", "bob", "Again", os.path.join(dst, "Old")).stdout
        self.assertIn("2 messages imported into Again", out)
        # mbox export gives back the imported file; the Maildir's messages came back in file name order.
        dst2 = os.path.join(self.dir, "export2")
        subprocess.run(
            [MOX, "export", "mbox", dst2, os.path.join(self.data, "accounts", "bob")],
            capture_output=True,
            check=True,
        )
        expected = MBOX.replace("alice@example.org", "MAILER-DAEMON").replace("bob@example.org", "MAILER-DAEMON")
        with open(os.path.join(dst2, "Old.mbox"), encoding="utf-8") as f:
            self.assertEqual(f.read(), expected)
        with open(os.path.join(dst2, "Again.mbox"), encoding="utf-8") as f:
            again = f.read()
        self.assertEqual(sorted(re.split(r"(?m)^From ", again)), sorted(re.split(r"(?m)^From ", expected)))

        # An account that another process has open (it holds a shared flock on the account's lock
        # file, as the store does) is not removed, and domains.conf is left alone.
        before = self.read_domains()
        lock = os.path.join(self.data, "accounts", "bob", "lock")
        holder = subprocess.Popen(["flock", "-s", lock, "sleep", "60"], start_new_session=True)
        try:
            for _ in range(100):
                if subprocess.run(["flock", "-n", "-x", lock, "true"]).returncode != 0:
                    break
                time.sleep(0.05)
            p = self.mox("config", "account", "rm", "bob", ok=False)
            self.assertIn("in use", p.stderr)
            self.assertEqual(self.read_domains(), before)
            self.assertTrue(os.path.exists(os.path.join(self.data, "accounts", "bob", "index.db")))
        finally:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait()
        self.mox("config", "account", "rm", "bob")
        self.assertFalse(os.path.exists(os.path.join(self.data, "accounts", "bob")))

    def test_import_errors_say_where(self):
        self.mox("config", "account", "add", "bob", "bob@example.org")
        bad = os.path.join(self.dir, "bad.mbox")
        with open(bad, "w", encoding="utf-8") as f:
            f.write("Subject: no from line\n\nbody\n")
        p = self.mox("import", "mbox", "bob", "Inbox", bad, ok=False)
        self.assertIn("message 1 (line 1)", p.stderr)
        p = self.mox("import", "maildir", "bob", "Inbox", os.path.join(self.dir, "missing"), ok=False)
        self.assertIn("not a maildir", p.stderr)
        p = self.mox("import", "mbox", "nobody", "Inbox", bad, ok=False)
        self.assertIn("does not exist", p.stderr)


if __name__ == "__main__":
    unittest.main()
