"""End-to-end tests of the SMTP server of the built `mox`, through `mox localserve`.

Run by `make test` after the Swift tests: python3 -m unittest discover -s Tests/Interop -v
Needs the debug binaries (swift build), and ports 1025, 1587 and 1465 on 127.0.0.1 free. One localserve
runs for the whole class, in a fresh temporary directory; every accepted message lands in the Inbox of
account mox, so each test marks its messages with a unique token and finds them in a Maildir export.
The swaks tests are skipped when swaks is not installed.
"""

import base64
import hashlib
import hmac
import os
import re
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
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scram_client import ScramClient, mechanism_name, tls_server_end_point

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def bin_path():
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


MOX = os.path.join(bin_path(), "mox")

HOST = "127.0.0.1"
SMTP_PORT = 1025
SUBMISSION_PORT = 1587
SUBMISSIONS_PORT = 1465
USER = "mox@localhost"
PASSWORD = "moxmoxmox"

# EHLO keywords with their parameters, as the submission listener offers them.
EHLO_BEFORE_TLS = [
    "PIPELINING",
    "SIZE 104857600",
    "STARTTLS",
    "AUTH SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN",
    "ENHANCEDSTATUSCODES",
    "8BITMIME",
    "CHUNKING",
    "DSN",
    "LIMITS RCPTMAX=1000",
    "SMTPUTF8",
]
EHLO_AFTER_TLS = [
    "PIPELINING",
    "SIZE 104857600",
    "REQUIRETLS",
    "AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN",
    "ENHANCEDSTATUSCODES",
    "8BITMIME",
    "CHUNKING",
    "DSN",
    "LIMITS RCPTMAX=1000",
    "SMTPUTF8",
]


def tls_context():
    # localserve uses a self-signed certificate for "localhost".
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def b64(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def token():
    return uuid.uuid4().hex


def message(tok, subject=None, body="hello\r\n", sender=USER, extra_headers=""):
    """A small message in canonical CRLF form, marked by tok in its Subject and Message-ID."""
    subject = subject if subject is not None else f"test {tok}"
    text = (
        f"From: <{sender}>\r\n"
        f"To: <someone@example.org>\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{tok}@mox.test>\r\n"
        f"Date: Wed, 25 Nov 2026 09:00:00 +0000\r\n"
        f"{extra_headers}"
        f"\r\n"
        f"{body}"
    )
    return text.encode("utf-8")


def split_received(stored):
    """Split a stored message into the Received header the server added (all its folded lines) and the
    sent message, checking the other header fields submission adds.

    Local delivery puts Delivered-To (RFC 9228) and Return-Path (RFC 5321 4.4) before it, as mox
    does: they must be there, and are dropped here.
    """
    for name in (b"Delivered-To: ", b"Return-Path: <"):
        if not stored.startswith(name):
            raise AssertionError(f"stored message does not start with {name!r}: {stored[:200]!r}")
        stored = stored[stored.index(b"\n") + 1:]
    if stored.startswith(b"Authentication-Results: "):
        # Incoming delivery (RFC 8601 2.7, RFC 7208 9.1): the verdicts of every check, then Received-SPF,
        # before Received, as in mox.
        authres, stored = take_field(stored, b"Authentication-Results")
        for method in (b"iprev=", b"dkim=", b"spf=", b"dmarc="):
            if method not in authres:
                raise AssertionError(f"Authentication-Results without {method!r}: {authres!r}")
        spf, stored = take_field(stored, b"Received-SPF")
        return take_field(stored, b"Received")
    received, stored = take_field(stored, b"Received")
    # A submission from a localhost address is DKIM-signed with the localserve selector and gets an
    # Authentication-Results naming the authenticated sender (RFC 8601 2.7.4), after Received, as in
    # mox. Both are required to be there.
    signature, stored = take_field(stored, b"DKIM-Signature")
    for tag in (b"v=1;", b"d=localhost;", b"s=localserve;", b"a=ed25519-sha256;", b" bh=", b"\tb="):
        if tag not in signature:
            raise AssertionError(f"DKIM-Signature without {tag!r}: {signature!r}")
    authres, stored = take_field(stored, b"Authentication-Results")
    if not re.match(rb"Authentication-Results: localhost;\n\tauth=pass smtp\.mailfrom=\S+@\S+\n$", authres):
        raise AssertionError(f"unexpected Authentication-Results: {authres!r}")
    return received, stored


def take_field(stored, name):
    """Split the first header field, which must be name, with its folded lines, from the rest."""
    if not stored.startswith(name + b": "):
        raise AssertionError(f"stored message does not continue with a {name!r} header: {stored[:200]!r}")
    lines = stored.split(b"\n")
    n = 1
    while n < len(lines) and lines[n][:1] in (b" ", b"\t"):
        n += 1
    field = b"\n".join(lines[:n]) + b"\n"
    return field, stored[len(field):]


class RawSMTP:
    """A line-level SMTP client on a plain socket, for pipelining, BDAT and malformed input."""

    def __init__(self, port, host=HOST, tls=False):
        sock = socket.create_connection((host, port), timeout=60)
        if tls:
            sock = tls_context().wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.f = sock.makefile("rb")
        self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """Read one (possibly multi-line) reply: (code, [text lines])."""
        texts = []
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError(f"connection closed, reply so far {texts!r}")
            if not line.endswith(b"\r\n") or len(line) < 5 or not line[:3].isdigit():
                raise AssertionError(f"malformed reply line {line!r}")
            texts.append(line[4:-2].decode("utf-8"))
            if line[3:4] == b" ":
                return int(line[:3]), texts
            if line[3:4] != b"-":
                raise AssertionError(f"malformed reply line {line!r}")

    def cmd(self, line):
        self.send(line.encode("utf-8") + b"\r\n")
        return self.reply()

    def ehlo(self):
        code, texts = self.cmd("EHLO client.example")
        assert code == 250, (code, texts)
        return texts

    def auth_plain(self, user=USER, password=PASSWORD):
        return self.cmd("AUTH PLAIN " + b64(f"\0{user}\0{password}"))

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


class SMTPTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for port in (SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT):
            try:
                socket.create_connection((HOST, port), timeout=2).close()
            except OSError:
                continue
            raise RuntimeError(f"port {HOST}:{port} is already in use by another process; cannot start localserve")

        cls.base = tempfile.mkdtemp(prefix="mox-smtp-test-")
        cls.addClassCleanup(shutil.rmtree, cls.base, ignore_errors=True)
        cls.dir = os.path.join(cls.base, "localserve")
        cls.logpath = os.path.join(cls.base, "localserve.log")
        cls.log = open(cls.logpath, "wb")
        cls.addClassCleanup(cls.log.close)
        cls.proc = subprocess.Popen(
            [MOX, "localserve", "-dir", cls.dir],
            stdin=subprocess.DEVNULL,
            stdout=cls.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        cls.addClassCleanup(cls._kill)
        cls.exports = 0

        deadline = time.monotonic() + 60
        pending = {SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT}
        while pending:
            if cls.proc.poll() is not None:
                raise RuntimeError(f"mox localserve exited with {cls.proc.returncode}:\n{cls.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mox localserve did not listen on {sorted(pending)} within 60s:\n{cls.output()}")
            for port in sorted(pending):
                try:
                    socket.create_connection((HOST, port), timeout=2).close()
                    pending.discard(port)
                except OSError:
                    pass
            if pending:
                time.sleep(0.2)
        # The summary comes once every listener (IMAP and HTTP too) has started, a moment after
        # the SMTP ports answer.
        while "serving smtp on 127.0.0.1:1025 (listener local)" not in cls.output():
            if time.monotonic() > deadline:
                raise RuntimeError(f"localserve listens, but did not print its summary:\n{cls.output()}")
            time.sleep(0.1)

    @classmethod
    def _kill(cls):
        # Last resort, e.g. when setUpClass or tearDownClass failed half-way.
        if cls.proc.poll() is None:
            os.killpg(cls.proc.pid, signal.SIGKILL)
            cls.proc.wait()

    @classmethod
    def output(cls):
        with open(cls.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            code = cls.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"mox localserve did not stop within 30s after SIGTERM:\n{cls.output()}")
        out = cls.output()
        if code != 0:
            raise AssertionError(f"mox localserve exited with {code} after SIGTERM:\n{out}")
        if "mox stopped" not in out:
            raise AssertionError(f"mox localserve did not print 'mox stopped':\n{out}")

    # Helpers.

    def submission(self, starttls=False, login=True):
        s = smtplib.SMTP(HOST, SUBMISSION_PORT, local_hostname="client.example", timeout=30)
        self.addCleanup(s.close)
        s.ehlo()
        if starttls:
            s.starttls(context=tls_context())
            s.ehlo()
        if login:
            s.login(USER, PASSWORD)
        return s

    def stored_messages(self):
        """All messages of the Inbox of account mox, each as bytes with LF line endings, from a Maildir export."""
        type(self).exports += 1
        dst = os.path.join(self.base, f"export{self.exports}")
        p = subprocess.run(
            [MOX, "export", "maildir", dst, os.path.join(self.dir, "accounts", "mox"), "Inbox"],
            capture_output=True,
            timeout=300,
        )
        self.assertEqual(p.returncode, 0, f"mox export: {p.stdout!r} {p.stderr!r}")
        msgs = []
        for sub in ("cur", "new"):
            d = os.path.join(dst, "Inbox", sub)
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                with open(os.path.join(d, name), "rb") as f:
                    msgs.append(f.read())
        shutil.rmtree(dst, ignore_errors=True)
        return msgs

    def find_stored(self, tok, msgs=None):
        if msgs is None:
            msgs = self.stored_messages()
        mark = tok.encode("utf-8") if isinstance(tok, str) else tok
        return [m for m in msgs if mark in m]

    def assert_stored_exactly(self, tok, sent, msgs=None, copies=1):
        """The stored message marked with tok is a Received header followed by exactly the sent bytes.

        A message for several recipients is delivered once per recipient, as in mox; copies says how many.
        Returns the Received headers, one per copy, in store order.
        """
        found = self.find_stored(tok, msgs)
        # Submitted mail goes through the queue, which delivers it a moment after the 250.
        deadline = time.time() + 10
        while msgs is None and len(found) < copies and time.time() < deadline:
            time.sleep(0.1)
            found = self.find_stored(tok)
        self.assertEqual(len(found), copies, f"expected {copies} stored message(s) with {tok}, found {len(found)}")
        headers = []
        for stored in found:
            received, rest = split_received(stored)
            headers.append(received)
            expected = sent.replace(b"\r\n", b"\n")
            if len(expected) > 10000:
                self.assertEqual(len(rest), len(expected))
                self.assertEqual(hashlib.sha256(rest).hexdigest(), hashlib.sha256(expected).hexdigest())
            else:
                self.assertEqual(rest, expected)
        return headers

    def assert_received(self, received, with_protocol, rcpt):
        """RFC 5321 4.4 trace header: "with" as registered by RFC 3848 / RFC 6531, and "for" the recipient."""
        text = received.decode("utf-8")
        self.assertRegex(text, rf"\swith {with_protocol}\s", text)
        self.assertIn(f"for <{rcpt}>;", text)

    def assert_not_stored(self, tok, msgs=None):
        self.assertEqual(self.find_stored(tok, msgs), [], f"message with {tok} should not have been stored")

    def scram(self, s, hash_name, plus=False, password=PASSWORD, cbind=None, client_supports_cbind=False):
        """Run a SCRAM exchange on an smtplib connection. Returns the final (code, text)."""
        if plus and cbind is None:
            cbind = tls_server_end_point(s.sock.getpeercert(binary_form=True))
        c = ScramClient(hash_name, USER, password, cbind=cbind if plus else None,
                        client_supports_cbind=client_supports_cbind)
        mech = mechanism_name(hash_name, plus)
        code, resp = s.docmd("AUTH", f"{mech} {b64(c.client_first())}")
        self.assertEqual(code, 334, resp)
        server_first = base64.b64decode(resp, validate=True)
        code, resp = s.docmd(b64(c.client_final(server_first)))
        if code != 334:
            return code, resp
        c.verify_server_final(base64.b64decode(resp, validate=True))
        return s.docmd("")

    def send_and_check(self, s, port_name):
        tok = token()
        msg = message(tok, subject=f"{port_name} {tok}")
        self.assertEqual(s.sendmail(USER, ["rcpt@example.com"], msg), {})
        return tok, msg

    # Tests.

    def test_ehlo_extensions(self):
        s = self.submission(login=False)
        code, resp = s.ehlo("client.example")
        self.assertEqual(code, 250)
        lines = resp.decode("utf-8").split("\n")
        self.assertEqual(sorted(lines[1:]), sorted(EHLO_BEFORE_TLS))
        s.starttls(context=tls_context())
        code, resp = s.ehlo("client.example")
        self.assertEqual(code, 250)
        lines = resp.decode("utf-8").split("\n")
        self.assertEqual(sorted(lines[1:]), sorted(EHLO_AFTER_TLS))
        s.quit()

    def test_starttls_handshake_repeated(self):
        # The TLS handshake after "220" must work every time, however fast the client sends its
        # ClientHello: the server has to be ready for TLS before the client can see the 220.
        failures = []
        for i in range(40):
            s = smtplib.SMTP(HOST, SUBMISSION_PORT, local_hostname="client.example", timeout=5)
            try:
                s.ehlo()
                s.starttls(context=tls_context())
                code, _ = s.ehlo()
                self.assertEqual(code, 250)
                s.quit()
            except (OSError, smtplib.SMTPException) as e:
                failures.append(f"attempt {i}: {e!r}")
            finally:
                s.close()
        self.assertEqual(failures, [], f"{len(failures)} of 40 STARTTLS handshakes failed")

    def test_starttls_auth_plain_stored_exactly(self):
        s = self.submission(starttls=True, login=False)
        code, resp = s.docmd("AUTH", "PLAIN " + b64(f"\0{USER}\0{PASSWORD}"))
        self.assertEqual(code, 235, resp)
        self.assertTrue(resp.startswith(b"2.7.0"), resp)
        tok = token()
        body = (
            "first line\r\n"
            "\r\n"
            "trailing spaces   \r\n"
            "\ttab\r\n"
            "From the start of a line\r\n"
            ">From quoted\r\n"
            + "x" * 990 + "\r\n"
            "last\r\n"
        )
        msg = message(tok, body=body, extra_headers="X-Folded: a\r\n\tb\r\n")
        self.assertEqual(s.sendmail(USER, ["one@example.com", "two@example.org"], msg), {})
        s.quit()
        headers = self.assert_stored_exactly(tok, msg, copies=2)
        for h in headers:
            self.assertRegex(h.decode(), r"\swith ESMTPSA\s")
            # RFC 5321 4.4 / 7.2: a copy does not reveal the other recipient.
            self.assertFalse(b"one@example.com" in h and b"two@example.org" in h, h)

    def test_auth_login(self):
        s = self.submission(login=False)
        code, resp = s.docmd("AUTH", "LOGIN")
        self.assertEqual(code, 334)
        self.assertEqual(base64.b64decode(resp), b"Username:")
        code, resp = s.docmd(b64(USER))
        self.assertEqual(code, 334)
        self.assertEqual(base64.b64decode(resp), b"Password:")
        code, resp = s.docmd(b64(PASSWORD))
        self.assertEqual(code, 235, resp)
        tok, msg = self.send_and_check(s, "login")
        s.quit()
        (received,) = self.assert_stored_exactly(tok, msg)
        self.assert_received(received, "ESMTPA", "rcpt@example.com")

    def test_auth_cram_md5(self):
        s = self.submission(login=False)
        code, resp = s.docmd("AUTH", "CRAM-MD5")
        self.assertEqual(code, 334)
        challenge = base64.b64decode(resp, validate=True)
        self.assertRegex(challenge, rb"^<.+@.+>$")
        digest = hmac.new(PASSWORD.encode(), challenge, "md5").hexdigest()
        code, resp = s.docmd(b64(f"{USER} {digest}"))
        self.assertEqual(code, 235, resp)
        tok, msg = self.send_and_check(s, "cram-md5")
        s.quit()
        self.assert_stored_exactly(tok, msg)

    def test_auth_smtplib_login_default(self):
        # smtplib picks its own mechanism (CRAM-MD5 first); and with an initial response for PLAIN.
        for mech in ("CRAM-MD5", "PLAIN", "LOGIN"):
            with self.subTest(mech=mech):
                s = self.submission(login=False)
                s.user, s.password = USER, PASSWORD
                code, resp = s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
                self.assertEqual(code, 235, resp)
                s.quit()

    def test_auth_scram_without_tls(self):
        for hash_name in ("sha256", "sha1"):
            with self.subTest(mech=mechanism_name(hash_name)):
                s = self.submission(login=False)
                code, resp = self.scram(s, hash_name)
                self.assertEqual(code, 235, resp)
                tok, msg = self.send_and_check(s, mechanism_name(hash_name))
                s.quit()
                self.assert_stored_exactly(tok, msg)

    def test_auth_scram_plus(self):
        with open(os.path.join(self.dir, "localhost.crt"), encoding="ascii") as f:
            pem = f.read()
        cert_der = ssl.PEM_cert_to_DER_cert(pem)
        toks = []
        for hash_name in ("sha256", "sha1"):
            for port in (SUBMISSION_PORT, SUBMISSIONS_PORT):
                with self.subTest(mech=mechanism_name(hash_name, True), port=port):
                    if port == SUBMISSION_PORT:
                        s = self.submission(starttls=True, login=False)
                    else:
                        s = smtplib.SMTP_SSL(HOST, port, local_hostname="client.example", context=tls_context(),
                                             timeout=60)
                        self.addCleanup(s.close)
                        s.ehlo()
                    self.assertIn(mechanism_name(hash_name, True), s.esmtp_features["auth"].split())
                    self.assertEqual(s.sock.getpeercert(binary_form=True), cert_der)
                    code, resp = self.scram(s, hash_name, plus=True)
                    self.assertEqual(code, 235, resp)
                    tok, msg = self.send_and_check(s, mechanism_name(hash_name, True))
                    toks.append((tok, msg))
                    s.quit()
        msgs = self.stored_messages()
        for tok, msg in toks:
            self.assert_stored_exactly(tok, msg, msgs)

    def test_auth_scram_plus_wrong_channel_binding(self):
        s = self.submission(starttls=True, login=False)
        code, resp = self.scram(s, "sha256", plus=True, cbind=hashlib.sha256(b"another certificate").digest())
        self.assertEqual(code, 535, resp)
        self.assertTrue(resp.startswith(b"5.7."), resp)
        # Channel binding support hidden from a server that offers it ("y" flag): a downgrade, must fail,
        # at the first or the final message.
        c = ScramClient("sha256", USER, PASSWORD, client_supports_cbind=True)
        code, resp = s.docmd("AUTH", "SCRAM-SHA-256 " + b64(c.client_first()))
        if code == 334:
            code, resp = s.docmd(b64(c.client_final(base64.b64decode(resp))))
        self.assertEqual(code, 535, resp)
        # The connection is still usable.
        code, resp = self.scram(s, "sha256", plus=True)
        self.assertEqual(code, 235, resp)
        s.quit()

    def test_auth_scram_y_flag_without_tls(self):
        # Without TLS the server cannot bind, so a client that could ("y") is fine.
        s = self.submission(login=False)
        code, resp = self.scram(s, "sha256", client_supports_cbind=True)
        self.assertEqual(code, 235, resp)
        s.quit()

    def test_auth_wrong_password(self):
        s = self.submission(login=False)
        code, resp = s.docmd("AUTH", "PLAIN " + b64(f"\0{USER}\0wrongpassword"))
        self.assertEqual(code, 535, resp)
        self.assertTrue(resp.startswith(b"5.7.8"), resp)
        code, resp = s.docmd("AUTH", "PLAIN " + b64(f"\0nobody@localhost\0{PASSWORD}"))
        self.assertEqual(code, 535, resp)
        self.assertTrue(resp.startswith(b"5.7.8"), resp)
        # Not authenticated: no mail.
        code, resp = s.docmd("MAIL", f"FROM:<{USER}>")
        self.assertEqual(code, 530, resp)
        # A correct login on the same connection still works.
        s.login(USER, PASSWORD)
        s.quit()
        # (mox closes a connection after 3 failed attempts, so SCRAM gets its own.)
        s = self.submission(login=False)
        code, resp = self.scram(s, "sha256", password="wrongpassword")
        self.assertEqual(code, 535, resp)
        self.assertTrue(resp.startswith(b"5.7.8"), resp)
        s.quit()

    def test_submission_requires_auth(self):
        s = self.submission(login=False)
        code, resp = s.mail(USER)
        self.assertEqual(code, 530, resp)
        self.assertTrue(resp.startswith(b"5.7.0"), resp)
        s.quit()

    def test_submissions_implicit_tls(self):
        s = smtplib.SMTP_SSL(HOST, SUBMISSIONS_PORT, local_hostname="client.example", context=tls_context(),
                             timeout=60)
        self.addCleanup(s.close)
        code, resp = s.ehlo()
        self.assertEqual(code, 250)
        self.assertNotIn("starttls", s.esmtp_features)
        self.assertIn("requiretls", s.esmtp_features)
        s.login(USER, PASSWORD)
        tok, msg = self.send_and_check(s, "submissions")
        s.quit()
        (received,) = self.assert_stored_exactly(tok, msg)
        self.assert_received(received, "ESMTPSA", "rcpt@example.com")

    def test_smtp_port_without_auth(self):
        s = smtplib.SMTP(HOST, SMTP_PORT, local_hostname="client.example", timeout=60)
        self.addCleanup(s.close)
        s.ehlo()
        self.assertNotIn("auth", s.esmtp_features)
        tok = token()
        msg = message(tok, sender="someone@example.net")
        self.assertEqual(s.sendmail("someone@example.net", ["anyone@localhost"], msg), {})
        s.quit()
        (received,) = self.assert_stored_exactly(tok, msg)
        self.assert_received(received, "ESMTP", "anyone@localhost")

    def test_smtp_port_ipv6(self):
        try:
            s = smtplib.SMTP("::1", SMTP_PORT, local_hostname="client.example", timeout=60)
        except OSError as e:
            self.skipTest(f"no IPv6 loopback: {e}")
        self.addCleanup(s.close)
        tok = token()
        msg = message(tok, sender="someone@example.net")
        self.assertEqual(s.sendmail("someone@example.net", ["v6@localhost"], msg), {})
        s.quit()
        self.assertEqual(len(self.find_stored(tok)), 1)

    def test_smtputf8(self):
        s = self.submission()
        self.assertTrue(s.has_extn("smtputf8"))
        tok = token()
        msg = message(tok, subject=f"Grüße aus Köln ✉ {tok}", body="Ünïcödé bödy\r\nñoño\r\n",
                      extra_headers="X-Rcpt: ñoño@localhost\r\n")
        self.assertEqual(s.sendmail(USER, ["ñoño@localhost"], msg, mail_options=["SMTPUTF8"]), {})
        s.quit()
        (received,) = self.assert_stored_exactly(tok, msg)
        self.assert_received(received, "UTF8SMTPA", "ñoño@localhost")

    def test_utf8_address_without_smtputf8(self):
        # RFC 6531 3.6 / 3.7.4: a non-ASCII address without the SMTPUTF8 parameter gets 553 5.6.7.
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        c.ehlo()
        self.assertEqual(c.auth_plain()[0], 235)
        self.assertEqual(c.cmd(f"MAIL FROM:<{USER}>")[0], 250)
        code, texts = c.cmd("RCPT TO:<ñoño@localhost>")
        self.assertEqual(code, 553, texts)
        self.assertTrue(texts[-1].startswith("5.6.7"), texts)
        self.assertEqual(c.cmd("QUIT")[0], 221)

    def test_8bitmime(self):
        s = self.submission()
        tok = token()
        # A raw 8-bit byte that is not UTF-8.
        msg = message(tok, body="cafe in latin-1\r\n").replace(b"cafe in", b"caf\xe9 in")
        self.assertEqual(s.sendmail(USER, ["eight@example.com"], msg, mail_options=["BODY=8BITMIME"]), {})
        s.quit()
        self.assert_stored_exactly(tok, msg)

    def test_pipelining(self):
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        self.assertEqual(c.greeting[0], 220)
        self.assertIn("PIPELINING", c.ehlo())
        self.assertEqual(c.auth_plain()[0], 235)
        c.send(
            f"MAIL FROM:<{USER}>\r\n"
            "RCPT TO:<pipe1@example.com>\r\n"
            "RCPT TO:<pipe2@example.org>\r\n"
            "DATA\r\n".encode()
        )
        codes = [c.reply()[0] for _ in range(4)]
        self.assertEqual(codes, [250, 250, 250, 354])
        tok = token()
        msg = message(tok)
        # The data, its end, the next transaction and QUIT, all in one write too.
        c.send(msg + b".\r\n" + f"MAIL FROM:<{USER}>\r\nRSET\r\nNOOP\r\nQUIT\r\n".encode())
        codes = [c.reply()[0] for _ in range(5)]
        self.assertEqual(codes, [250, 250, 250, 250, 221])
        self.assert_stored_exactly(tok, msg, copies=2)

    def test_pipelining_with_failing_recipient(self):
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        c.ehlo()
        self.assertEqual(c.auth_plain()[0], 235)
        c.send(
            f"MAIL FROM:<{USER}>\r\n"
            "RCPT TO:<good@example.com>\r\n"
            "RCPT TO:<rcpttopermerror@example.com>\r\n"
            "DATA\r\n".encode()
        )
        codes = [c.reply()[0] for _ in range(4)]
        self.assertEqual(codes, [250, 250, 550, 354])
        tok = token()
        msg = message(tok)
        c.send(msg + b".\r\n")
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.assert_stored_exactly(tok, msg)

    def test_large_message(self):
        s = self.submission()
        s.sock.settimeout(300)
        tok = token()
        line = (b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_+=" + b"!" * 10)[:76] + b"\r\n"
        body = b"".join(b"%08d " % i + line for i in range(20 * 1024 * 1024 // (len(line) + 9)))
        msg = message(tok) + body
        self.assertGreaterEqual(len(msg), 20 * 1024 * 1024 - 200)
        code, resp = s.mail(USER, [f"SIZE={len(msg)}"])
        self.assertEqual(code, 250, resp)
        self.assertEqual(s.rcpt("big@example.com")[0], 250)
        code, resp = s.data(msg)
        self.assertEqual(code, 250, resp)
        s.quit()
        self.assert_stored_exactly(tok, msg)

    def test_size_too_large_declared(self):
        s = self.submission()
        code, resp = s.mail(USER, ["SIZE=104857601"])
        self.assertEqual(code, 552, resp)
        self.assertTrue(resp.startswith(b"5.3.4"), resp)
        s.quit()

    def test_bdat(self):
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        self.assertIn("CHUNKING", c.ehlo())
        self.assertEqual(c.auth_plain()[0], 235)
        self.assertEqual(c.cmd(f"MAIL FROM:<{USER}>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bdat@example.com>")[0], 250)
        tok = token()
        msg = message(tok, body=".a line starting with a dot, not stuffed in BDAT\r\n.\r\nafter a lone dot\r\n")
        part1, part2 = msg[:57], msg[57:]
        c.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assertEqual(c.reply()[0], 250)
        c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.assert_stored_exactly(tok, msg)

    def test_bdat_crlf_split_across_chunks(self):
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        c.ehlo()
        self.assertEqual(c.auth_plain()[0], 235)
        self.assertEqual(c.cmd(f"MAIL FROM:<{USER}>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bdat@example.com>")[0], 250)
        tok = token()
        msg = message(tok, body="line one\r\nline two\r\n")
        cut = msg.index(b"line one\r\n") + len(b"line one\r")  # chunk 1 ends in CR, chunk 2 starts with LF
        chunks = [msg[:cut], msg[cut:-5], msg[-5:], b""]
        for i, chunk in enumerate(chunks):
            last = " LAST" if i == len(chunks) - 1 else ""
            c.send(b"BDAT %d%s\r\n" % (len(chunk), last.encode()) + chunk)
            code, texts = c.reply()
            self.assertEqual(code, 250, f"chunk {i}: {texts}")
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.assert_stored_exactly(tok, msg)

    def test_dot_stuffing(self):
        tok = token()
        body = ".starts with a dot\r\n..two dots\r\n.\r\n. space\r\nend\r\n."
        msg = message(tok, body=body + "\r\n")
        # smtplib stuffs the dots itself.
        s = self.submission()
        self.assertEqual(s.sendmail(USER, ["dots@example.com"], msg), {})
        s.quit()
        # And explicitly on a raw connection.
        tok2 = token()
        msg2 = message(tok2, body=body + "\r\n")
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        c.ehlo()
        self.assertEqual(c.auth_plain()[0], 235)
        self.assertEqual(c.cmd(f"MAIL FROM:<{USER}>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<dots@example.com>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(re.sub(rb"(?m)^\.", b"..", msg2) + b".\r\n")
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        msgs = self.stored_messages()
        self.assert_stored_exactly(tok, msg, msgs)
        self.assert_stored_exactly(tok2, msg2, msgs)

    def test_failure_simulation_at_data(self):
        s = self.submission()
        toks = []
        for localpart, code in (("temperror", 451), ("permerror", 550), ("xyz552", 552), ("x450", 450)):
            with self.subTest(localpart=localpart):
                tok = token()
                toks.append(tok)
                self.assertEqual(s.mail(USER)[0], 250)
                self.assertEqual(s.rcpt(f"{localpart}@example.org")[0], 250)
                got, resp = s.data(message(tok))
                self.assertEqual(got, code, resp)
                s.rset()
        # The connection still delivers.
        tok, msg = self.send_and_check(s, "after failures")
        s.quit()
        msgs = self.stored_messages()
        for t in toks:
            self.assert_not_stored(t, msgs)
        self.assert_stored_exactly(tok, msg, msgs)

    def test_failure_simulation_at_rcpt(self):
        s = self.submission()
        self.assertEqual(s.mail(USER)[0], 250)
        for localpart, code in (("rcpttotemperror", 451), ("rcpttopermerror", 550), ("rcptto552", 552)):
            with self.subTest(localpart=localpart):
                got, resp = s.rcpt(f"{localpart}@example.org")
                self.assertEqual(got, code, resp)
        self.assertEqual(s.rcpt("fine@example.org")[0], 250)
        s.quit()

    def test_failure_simulation_at_mail_from(self):
        # On the incoming port, where MAIL FROM is not tied to an account.
        s = smtplib.SMTP(HOST, SMTP_PORT, local_hostname="client.example", timeout=60)
        self.addCleanup(s.close)
        s.ehlo()
        for localpart, code in (("mailfromtemperror", 451), ("mailfrompermerror", 550), ("mailfrom552", 552)):
            with self.subTest(localpart=localpart):
                got, resp = s.mail(f"{localpart}@example.org")
                self.assertEqual(got, code, resp)
                s.rset()
        self.assertEqual(s.mail("fine@example.org")[0], 250)
        s.quit()

    def test_mail_from_not_allowed(self):
        s = self.submission()
        for sender in ("other@localhost", "mox@example.org", "moxx@localhost"):
            with self.subTest(sender=sender):
                code, resp = s.mail(sender)
                self.assertEqual(code, 550, resp)
                self.assertTrue(resp.startswith(b"5.7.1"), resp)
                s.rset()
        # A catchall-separator address of the account is fine.
        tok = token()
        msg = message(tok, sender="mox+tag@localhost")
        self.assertEqual(s.sendmail("mox+tag@localhost", ["x@example.com"], msg), {})
        s.quit()
        self.assert_stored_exactly(tok, msg)

    def test_message_from_not_allowed(self):
        s = self.submission()
        tok = token()
        self.assertEqual(s.mail(USER)[0], 250)
        self.assertEqual(s.rcpt("x@example.com")[0], 250)
        code, resp = s.data(message(tok, sender="other@localhost"))
        self.assertEqual(code, 550, resp)
        self.assertTrue(resp.startswith(b"5.7.1"), resp)
        s.rset()
        tok2, msg2 = self.send_and_check(s, "after bad from")
        s.quit()
        msgs = self.stored_messages()
        self.assert_not_stored(tok, msgs)
        self.assert_stored_exactly(tok2, msg2, msgs)

    def test_smtp_smuggling_rejected(self):
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        c.ehlo()
        self.assertEqual(c.auth_plain()[0], 235)
        rejected = []
        for name, bad in (("CRLF.LF", b"\r\n.\n"), ("LF.LF", b"\n.\n"), ("LF.CRLF", b"\n.\r\n"), ("bare CR", b"\r")):
            with self.subTest(sequence=name):
                tok, smuggled = token(), token()
                rejected += [tok, smuggled]
                self.assertEqual(c.cmd(f"MAIL FROM:<{USER}>")[0], 250)
                self.assertEqual(c.cmd("RCPT TO:<victim@example.com>")[0], 250)
                self.assertEqual(c.cmd("DATA")[0], 354)
                data = (
                    message(tok, body="body")
                    + bad
                    + f"MAIL FROM:<{USER}>\r\nRCPT TO:<smuggled@example.com>\r\nDATA\r\n".encode()
                    + message(smuggled)
                    + b".\r\n"
                )
                c.send(data)
                code, texts = c.reply()
                self.assertEqual(code, 500, texts)
                self.assertTrue(texts[-1].startswith("5.5.2"), texts)
                # Nothing else is pending: the next command gets its own reply, and a transaction works.
                self.assertEqual(c.cmd("NOOP")[0], 250)
                tok_ok = token()
                msg_ok = message(tok_ok)
                self.assertEqual(c.cmd(f"MAIL FROM:<{USER}>")[0], 250)
                self.assertEqual(c.cmd("RCPT TO:<after@example.com>")[0], 250)
                self.assertEqual(c.cmd("DATA")[0], 354)
                c.send(msg_ok + b".\r\n")
                self.assertEqual(c.reply()[0], 250)
                self.assert_stored_exactly(tok_ok, msg_ok)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        msgs = self.stored_messages()
        for t in rejected:
            self.assert_not_stored(t, msgs)

    def test_commands_out_of_order(self):
        c = RawSMTP(SMTP_PORT)
        self.addCleanup(c.close)
        code, texts = c.cmd("MAIL FROM:<a@example.org>")
        self.assertEqual(code, 503, f"MAIL before EHLO: {texts}")
        c.ehlo()
        code, texts = c.cmd("DATA")
        self.assertEqual(code, 503, f"DATA before MAIL: {texts}")
        code, texts = c.cmd("RCPT TO:<b@localhost>")
        self.assertEqual(code, 503, f"RCPT before MAIL: {texts}")
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org>")[0], 250)
        code, texts = c.cmd("DATA")
        self.assertEqual(code, 503, f"DATA before RCPT: {texts}")
        code, texts = c.cmd("MAIL FROM:<a@example.org>")
        self.assertEqual(code, 503, f"nested MAIL: {texts}")
        # The transaction in progress is still good.
        self.assertEqual(c.cmd("RCPT TO:<b@localhost>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        tok = token()
        msg = message(tok, sender="a@example.org")
        c.send(msg + b".\r\n")
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.assertEqual(len(self.find_stored(tok)), 1)

    def test_commands_out_of_order_submission(self):
        s = self.submission()
        code, resp = s.docmd("DATA")
        self.assertEqual(code, 503, resp)
        code, resp = s.docmd("RCPT", "TO:<x@example.com>")
        self.assertEqual(code, 503, resp)
        s.quit()

    def test_unknown_command_and_rset(self):
        c = RawSMTP(SMTP_PORT)
        self.addCleanup(c.close)
        c.ehlo()
        code, texts = c.cmd("FROBNICATE now")
        self.assertEqual(code, 500, texts)  # RFC 5321 4.2.4
        self.assertEqual(c.cmd("NOOP")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<b@localhost>")[0], 250)
        self.assertEqual(c.cmd("RSET")[0], 250)
        code, texts = c.cmd("DATA")
        self.assertEqual(code, 503, f"DATA after RSET: {texts}")
        # HELO instead of EHLO also starts a session.
        self.assertEqual(c.cmd("HELO client.example")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org>")[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)

    def test_auth_sequence_errors(self):
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        code, texts = c.auth_plain()
        self.assertEqual(code, 503, f"AUTH before EHLO: {texts}")
        c.ehlo()
        # RFC 4954 4: "*" cancels the exchange with 501.
        self.assertEqual(c.cmd("AUTH LOGIN")[0], 334)
        code, texts = c.cmd("*")
        self.assertEqual(code, 501, texts)
        code, texts = c.cmd("AUTH NOSUCHMECH")
        self.assertEqual(code, 504, texts)  # RFC 4954 4: unrecognized mechanism
        self.assertEqual(c.auth_plain()[0], 235)
        code, texts = c.auth_plain()
        self.assertEqual(code, 503, f"second AUTH: {texts}")  # RFC 4954 4
        code, texts = c.cmd("STARTTLS")
        self.assertEqual(code, 503, f"STARTTLS after AUTH: {texts}")
        self.assertEqual(c.cmd(f"MAIL FROM:<{USER}>")[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)

    def test_scram_plus_without_tls_refused(self):
        s = self.submission(login=False)
        c = ScramClient("sha256", USER, PASSWORD, cbind=b"\0" * 32)
        code, resp = s.docmd("AUTH", "SCRAM-SHA-256-PLUS " + b64(c.client_first()))
        self.assertGreaterEqual(code, 500, resp)
        self.assertLess(code, 600, resp)
        s.close()

    def test_starttls_command_injection(self):
        # CVE-2011-0411, RFC 3207 4.2: a command pipelined after STARTTLS, in the clear, is not executed.
        c = RawSMTP(SUBMISSION_PORT)
        self.addCleanup(c.close)
        c.ehlo()
        c.send(b"STARTTLS\r\nNOOP injected\r\n")
        code, texts = c.reply()
        self.assertEqual(code, 220, texts)
        c.sock.settimeout(10)
        c.sock = tls_context().wrap_socket(c.sock, server_hostname="localhost")
        c.f = c.sock.makefile("rb")
        code, texts = c.cmd("EHLO client.example")
        # The first reply in TLS must be to EHLO, not to the injected NOOP.
        self.assertEqual((code, texts[0]), (250, "localhost"), texts)
        self.assertIn("REQUIRETLS", texts)
        code, texts = c.cmd("QUIT")
        self.assertEqual(code, 221, texts)

    def test_rcptmax(self):
        # LIMITS RCPTMAX=1000 (RFC 9422): recipient 1001 is refused with 452 (RFC 5321 4.5.3.1.10), all pipelined.
        c = RawSMTP(SMTP_PORT)
        self.addCleanup(c.close)
        c.ehlo()
        c.send(b"MAIL FROM:<a@example.org>\r\n" + b"".join(b"RCPT TO:<r%d@localhost>\r\n" % i for i in range(1001)))
        self.assertEqual(c.reply()[0], 250)
        codes = [c.reply()[0] for _ in range(1001)]
        self.assertEqual(codes[:1000], [250] * 1000)
        self.assertEqual(codes[1000], 452)
        self.assertEqual(c.cmd("RSET")[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)

    def swaks(self, *args):
        if shutil.which("swaks") is None:
            self.skipTest("swaks is not installed (apt-get install swaks)")
        return subprocess.run(
            ["swaks", "--server", f"{HOST}:{SUBMISSION_PORT}", "--tls", "--auth-user", USER,
             "--auth-password", PASSWORD, "--from", USER, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_swaks_submission(self):
        tok = token()
        p = self.swaks("--to", "x@example.com", "--header", f"Subject: swaks {tok}")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"(?m)^<~  250 ")
        found = self.find_stored(tok)
        self.assertEqual(len(found), 1)
        self.assertIn(b"\nFrom: mox@localhost\n", found[0])

    def test_swaks_rcpt_permerror(self):
        p = self.swaks("--to", "rcpttopermerror@example.com")
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"(?m)^<~?\*+ 550 ", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
