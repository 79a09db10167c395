"""End-to-end tests of the IMAP server of the built `mox`, through `mox localserve`.

Run by `make test` after the Swift tests: python3 -m unittest discover -s Tests/Interop -v
Needs the debug binaries (swift build), and ports 1025, 1587, 1465, 1143 and 1993 on 127.0.0.1 free.
One localserve runs for the whole class, in a fresh temporary directory. Each test works in mailboxes
of its own (uuid-based names, deleted again in tearDown) and marks its messages with a unique token, so
tests do not depend on each other. The class is skipped while localserve says IMAP is not implemented.

The tests follow the RFCs (RFC 9051 IMAP4rev2, RFC 3501, RFC 4315 UIDPLUS, RFC 6851 MOVE, RFC 7162
CONDSTORE, RFC 2177 IDLE, RFC 6154, RFC 5258, RFC 5819, RFC 3516 BINARY, RFC 4731 ESEARCH, RFC 5182
SEARCHRES); a test of an extension the server does not advertise is skipped. Most tests use RawIMAP, a
small line-level client that keeps all untagged responses; imaplib is used where its API fits. The
mbsync (isync) test is skipped when mbsync is not installed.
"""

import base64
import datetime
import hmac
import imaplib
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
IMAP_PORT = 1143
IMAPS_PORT = 1993
USER = "mox@localhost"
PASSWORD = "moxmoxmox"

# The mailboxes of a new localserve account, with their special-use attribute (RFC 6154).
SPECIAL_USE = {"Sent": "\\Sent", "Archive": "\\Archive", "Trash": "\\Trash", "Drafts": "\\Drafts", "Junk": "\\Junk"}


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


def q(s):
    """An IMAP quoted string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def message(tok, subject=None, body="hello\r\n", sender="Alice Example <alice@example.org>",
            to="Bob <bob@example.com>", date="Wed, 25 Nov 2026 09:00:00 +0000", extra_headers=""):
    """A small message in canonical CRLF form, marked by tok in its Subject and Message-ID."""
    subject = subject if subject is not None else f"test {tok}"
    text = (
        f"From: {sender}\r\n"
        f"To: {to}\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{tok}@mox.test>\r\n"
        f"Date: {date}\r\n"
        f"{extra_headers}"
        f"\r\n"
        f"{body}"
    )
    return text.encode("utf-8")


def text(v):
    """A parsed string value (quoted string, atom or literal) as str; NIL stays None."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def flagset(flags):
    """Flags compare case-insensitively (RFC 9051 2.3.2); \\Recent (IMAP4rev1 only) is left out."""
    return {f.lower() for f in flags if f.lower() != "\\recent"}


def uidset(s):
    """Expand a sequence set of numbers ("1:3,7") into an ascending list."""
    out = []
    for part in s.split(","):
        if ":" in part:
            a, b = (int(x) for x in part.split(":"))
            out += range(min(a, b), max(a, b) + 1)
        else:
            out.append(int(part))
    return sorted(out)


def parse_internaldate(s):
    return datetime.datetime.strptime(text(s).strip(), "%d-%b-%Y %H:%M:%S %z")


_LITERAL = re.compile(rb"~?\{(\d+)\}\r\n")


def parse_values(data):
    """Parse IMAP response data into Python values.

    A parenthesized list becomes a list, NIL None, a literal bytes, and a quoted string or an atom str.
    An atom keeps its brackets whole, so "BODY[HEADER.FIELDS (SUBJECT)]<0>" is one value.
    """
    pos = 0
    n = len(data)

    def skip():
        nonlocal pos
        while pos < n and data[pos] == 0x20:
            pos += 1

    def value():
        nonlocal pos
        c = data[pos]
        if c == 0x28:  # (
            pos += 1
            items = []
            while True:
                skip()
                if pos >= n:
                    raise ValueError(f"unterminated list in {data[:200]!r}")
                if data[pos] == 0x29:  # )
                    pos += 1
                    return items
                items.append(value())
        if c == 0x22:  # "
            pos += 1
            out = bytearray()
            while True:
                if pos >= n:
                    raise ValueError(f"unterminated quoted string in {data[:200]!r}")
                ch = data[pos]
                pos += 1
                if ch == 0x5C:  # backslash
                    out.append(data[pos])
                    pos += 1
                elif ch == 0x22:
                    return out.decode("utf-8", "replace")
                else:
                    out.append(ch)
        m = _LITERAL.match(data, pos)
        if m:
            start = m.end()
            pos = start + int(m.group(1))
            if pos > n:
                raise ValueError("literal beyond end of response")
            return bytes(data[start:pos])
        start, depth = pos, 0
        while pos < n:
            ch = data[pos]
            if ch == 0x5B:  # [
                depth += 1
            elif ch == 0x5D:  # ]
                depth = max(0, depth - 1)
            elif depth == 0 and ch in (0x20, 0x28, 0x29):
                break
            pos += 1
        if pos == start:
            raise ValueError(f"unexpected {chr(c)!r} at offset {pos} in {data[:200]!r}")
        atom = data[start:pos].decode("utf-8", "replace")
        return None if atom.upper() == "NIL" else atom

    values = []
    while True:
        skip()
        if pos >= n:
            return values
        values.append(value())


_CODE = re.compile(r"^\[([^\]]*)\]")


class Untagged:
    """One untagged response: "* [num] NAME rest". OK/NO/BAD/BYE/PREAUTH keep their text, others are parsed."""

    def __init__(self, raw):
        self.raw = raw
        m = re.match(rb"\* (?:(\d+) )?([A-Za-z0-9=.-]+) ?", raw)
        if not m:
            raise AssertionError(f"malformed untagged response {raw[:300]!r}")
        self.num = int(m.group(1)) if m.group(1) else None
        self.name = m.group(2).decode().upper()
        rest = raw[m.end():]
        self.text = rest.decode("utf-8", "replace")
        self.args = None
        if self.name not in ("OK", "NO", "BAD", "BYE", "PREAUTH"):
            try:
                self.args = parse_values(rest)
            except (ValueError, IndexError):
                self.args = None

    @property
    def code(self):
        m = _CODE.match(self.text)
        return m.group(1) if m else None

    def fetch_items(self):
        """A FETCH response's items, by upper-case name without quotes ("BODY[HEADER.FIELDS (SUBJECT)]")."""
        if self.args is None or len(self.args) != 1 or not isinstance(self.args[0], list):
            raise AssertionError(f"cannot parse FETCH response {self.raw[:300]!r}")
        lst = self.args[0]
        return {item_key(lst[i]): lst[i + 1] for i in range(0, len(lst) - 1, 2)}

    def __repr__(self):
        return repr(self.raw[:300])


def item_key(name):
    return re.sub(r"\s+", " ", name.upper().replace('"', ""))


class Result:
    """The tagged completion of a command, and the untagged responses that came before it."""

    def __init__(self, tag, line, untagged):
        self.tag = tag
        self.line = line
        self.untagged = untagged
        m = re.match(rb"\S+ (OK|NO|BAD)\b ?(.*)", line, re.I)
        if not m:
            raise AssertionError(f"malformed tagged response {line[:300]!r}")
        self.status = m.group(1).decode().upper()
        self.text = m.group(2).decode("utf-8", "replace")

    @property
    def code(self):
        m = _CODE.match(self.text)
        return m.group(1) if m else None

    def codes(self):
        """Response codes of the untagged OK/NO/BAD responses and of the tagged one."""
        out = [u.code for u in self.untagged if u.name in ("OK", "NO", "BAD") and u.code]
        return out + ([self.code] if self.code else [])

    def code_args(self, name):
        """The rest of the first response code named name, e.g. "123 4" for [APPENDUID 123 4]."""
        for code in self.codes():
            parts = code.split(" ", 1)
            if parts[0].upper() == name:
                return parts[1] if len(parts) > 1 else ""
        return None

    def of(self, name):
        return [u for u in self.untagged if u.name == name]

    def fetches(self):
        """FETCH responses by message sequence number, items of several responses merged."""
        out = {}
        for u in self.of("FETCH"):
            out.setdefault(u.num, {}).update(u.fetch_items())
        return out

    def exists(self):
        counts = [u.num for u in self.of("EXISTS")]
        return counts[-1] if counts else None

    def __str__(self):
        lines = [repr(u.raw[:200]) for u in self.untagged[:20]]
        return f"{self.line[:300]!r} after {len(self.untagged)} untagged: " + ", ".join(lines)


class RawIMAP:
    """A line-level IMAP client on a plain socket: literals, pipelining, IDLE, and malformed input."""

    def __init__(self, port=IMAP_PORT, tls=False, timeout=30):
        sock = socket.create_connection((HOST, port), timeout=timeout)
        if tls:
            sock = tls_context().wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.ntag = 0
        self.greeting = self.read_response()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def next_tag(self):
        self.ntag += 1
        return f"T{self.ntag:04d}"

    def _fill(self, timeout):
        # Our own buffer (not makefile): a timeout leaves it intact, so IDLE can wait with short timeouts.
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError(f"connection closed by server, buffered {self.buf[:200]!r}")
        self.buf += data

    def _line(self, timeout):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[: i + 2], self.buf[i + 2:]
                return line
            self._fill(timeout)

    def _exact(self, size, timeout):
        while len(self.buf) < size:
            self._fill(timeout)
        data, self.buf = self.buf[:size], self.buf[size:]
        return data

    def read_response(self, timeout=None):
        """One response line with its literals inline, without the final CRLF."""
        timeout = self.timeout if timeout is None else timeout
        out = b""
        while True:
            line = self._line(timeout)
            m = re.search(rb"~?\{(\d+)\}\r\n\Z", line)
            if not m:
                return out + line[:-2]
            out += line + self._exact(int(m.group(1)), timeout)

    def finish(self, tag, untagged=None):
        """Read untagged responses until the tagged completion of tag."""
        untagged = [] if untagged is None else untagged
        prefix = tag.encode() + b" "
        while True:
            resp = self.read_response()
            if resp.startswith(prefix):
                return Result(tag, resp, untagged)
            if resp.startswith(b"* "):
                untagged.append(Untagged(resp))
                continue
            raise AssertionError(f"unexpected response while waiting for {tag}: {resp[:300]!r}")

    def cmd(self, *parts):
        """Send a command: str parts as they are, bytes parts as synchronizing literals."""
        tag = self.next_tag()
        prefix = tag.encode() + b" "
        untagged = []
        pending = prefix
        for p in parts:
            if isinstance(p, str):
                pending += p.encode("utf-8")
                continue
            self.send(pending + b"{%d}\r\n" % len(p))
            while True:
                resp = self.read_response()
                if resp.startswith(b"+"):
                    break
                if resp.startswith(prefix):
                    return Result(tag, resp, untagged)  # literal refused
                untagged.append(Untagged(resp))
            pending = p
        self.send(pending + b"\r\n")
        return self.finish(tag, untagged)

    def ok(self, *parts):
        r = self.cmd(*parts)
        if r.status != "OK":
            shown = "".join(p if isinstance(p, str) else "{literal}" for p in parts)
            raise AssertionError(f"{shown[:200]}: {r}")
        return r

    def login(self):
        return self.ok(f"LOGIN {q(USER)} {q(PASSWORD)}")

    def capabilities(self):
        r = self.ok("CAPABILITY")
        caps = set()
        for u in r.of("CAPABILITY"):
            caps |= {a.upper() for a in u.args if isinstance(a, str)}
        return caps

    def select(self, mailbox, command="SELECT", extra=""):
        return self.ok(f"{command} {q(mailbox)}{extra}")

    def append(self, mailbox, msg, flags=None, date=None):
        """APPEND one message; returns (uidvalidity, uid) from [APPENDUID] (RFC 4315)."""
        opts = ""
        if flags is not None:
            opts += f" ({flags})"
        if date is not None:
            opts += f" {q(date)}"
        r = self.ok(f"APPEND {q(mailbox)}{opts} ", msg)
        args = r.code_args("APPENDUID")
        if args is None:
            raise AssertionError(f"APPEND without [APPENDUID]: {r}")
        validity, uids = args.split()
        (uid,) = uidset(uids)
        return int(validity), uid

    def fetch(self, seqset, items, uid=False):
        r = self.ok(f"{'UID ' if uid else ''}FETCH {seqset} {items}")
        return r.fetches()

    def search(self, criteria, uid=False):
        r = self.ok(f"{'UID ' if uid else ''}SEARCH {criteria}")
        nums = []
        for u in r.of("SEARCH"):
            nums += [int(a) for a in u.args if isinstance(a, str) and a.isdigit()]
        return sorted(nums)

    def status(self, mailbox, items):
        r = self.ok(f"STATUS {q(mailbox)} ({items})")
        (u,) = r.of("STATUS")
        lst = u.args[1]
        return {lst[i].upper(): int(lst[i + 1]) for i in range(0, len(lst) - 1, 2)}

    def list(self, command='LIST "" "*"'):
        """Mailboxes of a LIST/LSUB command: {name: set of lower-case attributes}, and the Result."""
        r = self.ok(command)
        out = {}
        for u in r.of("LIST") + r.of("LSUB"):
            if u.args is None or len(u.args) < 3:
                raise AssertionError(f"cannot parse {u.raw[:300]!r}")
            attrs, delim, name = u.args[:3]
            if delim is not None and text(delim) != "/":
                raise AssertionError(f"hierarchy separator {delim!r}, expected /: {u.raw[:300]!r}")
            out[text(name)] = {a.lower() for a in attrs}
        return out, r


def read_maildir(path):
    """Messages of a Maildir folder: {message-id: (file path, set of IMAP flags from the file name)}."""
    letters = {"D": "\\draft", "F": "\\flagged", "R": "\\answered", "S": "\\seen", "T": "\\deleted"}
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                data = f.read()
            m = re.search(rb"(?im)^Message-ID:\s*<([^>]+)>", data)
            if not m:
                raise AssertionError(f"{p}: no Message-ID")
            info = name.split(":2,", 1)[1] if ":2," in name else ""
            out[m.group(1).decode()] = (p, {letters[c] for c in info if c in letters})
    return out


class IMAPTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ports = (SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT, IMAP_PORT, IMAPS_PORT)
        for port in ports:
            try:
                socket.create_connection((HOST, port), timeout=2).close()
            except OSError:
                continue
            raise RuntimeError(f"port {HOST}:{port} is already in use by another process; cannot start localserve")

        cls.base = tempfile.mkdtemp(prefix="mox-imap-test-")
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

        deadline = time.monotonic() + 60
        pending = set(ports)
        while pending:
            out = cls.output()
            if re.search(r"not implemented yet, not started: IMAPS? ", out):
                cls._stop()
                raise unittest.SkipTest("this mox localserve does not serve IMAP yet")
            if cls.proc.poll() is not None:
                raise RuntimeError(f"mox localserve exited with {cls.proc.returncode}:\n{out}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mox localserve did not listen on {sorted(pending)} within 60s:\n{out}")
            for port in sorted(pending):
                try:
                    socket.create_connection((HOST, port), timeout=2).close()
                    pending.discard(port)
                except OSError:
                    pass
            if pending:
                time.sleep(0.2)

    @classmethod
    def _kill(cls):
        # Last resort, e.g. when setUpClass or tearDownClass failed half-way.
        if cls.proc.poll() is None:
            os.killpg(cls.proc.pid, signal.SIGKILL)
            cls.proc.wait()

    @classmethod
    def _stop(cls):
        cls.proc.send_signal(signal.SIGTERM)
        try:
            return cls.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"mox localserve did not stop within 30s after SIGTERM:\n{cls.output()}")

    @classmethod
    def output(cls):
        with open(cls.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @classmethod
    def tearDownClass(cls):
        code = cls._stop()
        out = cls.output()
        if code != 0:
            raise AssertionError(f"mox localserve exited with {code} after SIGTERM:\n{out}")
        if "mox stopped" not in out:
            raise AssertionError(f"mox localserve did not print 'mox stopped':\n{out}")

    def setUp(self):
        self.created = []

    def tearDown(self):
        # Remove this test's mailboxes (and their children), so that later tests (mbsync) see few.
        if not self.created:
            return
        try:
            c = self.connect()
            for base in self.created:
                boxes, _ = c.list(f'LIST "" {q(base + "*")}')
                for name in sorted(boxes, key=lambda n: n.count("/"), reverse=True):
                    c.cmd(f"DELETE {q(name)}")
        except (OSError, EOFError, AssertionError):
            pass

    # Helpers.

    def connect(self, port=IMAP_PORT, tls=False, login=True):
        c = RawIMAP(port, tls=tls)
        self.addCleanup(c.close)
        if login:
            c.login()
        return c

    @staticmethod
    def wait_untagged(c, name, since, seconds=10):
        """Reads unsolicited responses until one named name (EXISTS, FETCH, ...) arrives, or
        seconds after since (a time.monotonic()) pass. Returns (delay since since, the response or
        None, every response read)."""
        deadline = since + seconds
        got = []
        while time.monotonic() < deadline:
            try:
                raw = c.read_response(timeout=max(0.01, deadline - time.monotonic()))
            except socket.timeout:
                break
            u = Untagged(raw)
            got.append(u)
            if u.name == name:
                return time.monotonic() - since, u, got
        return None, None, got

    def start_idle(self, c):
        """Sends IDLE and reads up to its continuation; returns the tag."""
        tag = c.next_tag()
        c.send(f"{tag} IDLE\r\n".encode())
        resp = c.read_response()
        while resp.startswith(b"* "):
            resp = c.read_response()
        self.assertTrue(resp.startswith(b"+"), f"IDLE: expected a continuation, got {resp!r}")
        return tag

    def imaplib_client(self, tls=False):
        if tls:
            m = imaplib.IMAP4_SSL(HOST, IMAPS_PORT, ssl_context=tls_context(), timeout=30)
        else:
            m = imaplib.IMAP4(HOST, IMAP_PORT, timeout=30)
        self.addCleanup(self._imaplib_close, m)
        return m

    @staticmethod
    def _imaplib_close(m):
        try:
            m.shutdown()
        except Exception:
            pass

    def name(self):
        """A fresh mailbox name, removed (with children) after the test."""
        base = "t" + uuid.uuid4().hex[:12]
        self.created.append(base)
        return base

    def create_mailbox(self, c):
        name = self.name()
        c.ok(f"CREATE {q(name)}")
        return name

    def require(self, c, *caps):
        have = c.capabilities()
        for cap in caps:
            if cap.upper() not in have:
                self.skipTest(f"server does not advertise {cap}")
        return have

    def mailbox_with(self, c, count, flags=None):
        """A new mailbox with count small messages; returns (name, tokens, messages, uids)."""
        name = self.create_mailbox(c)
        toks, msgs, uids = [], [], []
        for i in range(count):
            tok = token()
            msg = message(tok, subject=f"message {i + 1} {tok}")
            _, uid = c.append(name, msg, flags=flags[i] if flags else None)
            toks.append(tok)
            msgs.append(msg)
            uids.append(uid)
        return name, toks, msgs, uids

    def poll(self, c, pred, timeout=5):
        """NOOP until pred(untagged so far) holds; returns the untagged responses seen."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            seen += c.ok("NOOP").untagged
            if pred(seen) or time.monotonic() > deadline:
                return seen
            time.sleep(0.1)

    def scram(self, c, hash_name, plus=False, sasl_ir=True):
        """AUTHENTICATE SCRAM-* on a RawIMAP connection; the server-final message is verified."""
        cbind = tls_server_end_point(c.sock.getpeercert(binary_form=True)) if plus else None
        sc = ScramClient(hash_name, USER, PASSWORD, cbind=cbind)
        tag = c.next_tag()
        mech = mechanism_name(hash_name, plus)
        if sasl_ir:
            c.send(f"{tag} AUTHENTICATE {mech} {b64(sc.client_first())}\r\n".encode())
        else:
            c.send(f"{tag} AUTHENTICATE {mech}\r\n".encode())
            resp = c.read_response()
            self.assertTrue(resp.startswith(b"+"), f"expected an empty continuation: {resp!r}")
            c.send(b64(sc.client_first()).encode() + b"\r\n")
        resp = c.read_response()
        self.assertTrue(resp.startswith(b"+"), f"expected server-first-message: {resp!r}")
        c.send(b64(sc.client_final(base64.b64decode(resp[1:].strip(), validate=True))).encode() + b"\r\n")
        resp = c.read_response()
        # IMAP has no "additional data with success": the server-final message comes as a challenge
        # (RFC 4422 3.6), answered with an empty response.
        self.assertTrue(resp.startswith(b"+"), f"expected server-final-message as continuation: {resp!r}")
        sc.verify_server_final(base64.b64decode(resp[1:].strip(), validate=True))
        c.send(b"\r\n")
        return c.finish(tag)

    # 1. Greeting, CAPABILITY, LOGIN, LOGOUT.

    def test_greeting_capability_login_logout(self):
        c = self.connect(login=False)
        self.assertTrue(c.greeting.startswith(b"* OK"), f"greeting: {c.greeting!r}")
        caps = c.capabilities()
        self.assertIn("IMAP4REV2", caps, caps)
        self.assertIn("IMAP4REV1", caps, caps)
        self.assertIn("STARTTLS", caps, f"STARTTLS not offered on the plain port: {caps}")
        self.assertNotIn("LOGINDISABLED", caps, "localserve allows LOGIN without TLS")
        self.assertIn("AUTH=PLAIN", caps, caps)
        r = c.cmd(f"LOGIN {q(USER)} {q('wrongpassword')}")
        self.assertEqual(r.status, "NO", f"LOGIN with a wrong password: {r}")
        self.assertEqual((r.code or "").upper(), "AUTHENTICATIONFAILED", f"response code: {r}")
        r = c.cmd(f"LOGIN {q(USER)} {q(PASSWORD)}")
        self.assertEqual(r.status, "OK", f"LOGIN: {r}")
        self.assertEqual(c.ok("NOOP").status, "OK")
        r = c.cmd("LOGOUT")
        self.assertEqual([u.name for u in r.untagged if u.name == "BYE"], ["BYE"], f"LOGOUT without BYE: {r}")
        self.assertEqual(r.status, "OK", f"LOGOUT: {r}")
        try:
            extra = c.read_response(timeout=10)
        except (EOFError, ConnectionError):
            pass
        except socket.timeout:
            self.fail("server keeps the connection open after LOGOUT")
        else:
            self.fail(f"response after LOGOUT completed: {extra!r}")

    # 2. TLS and authentication mechanisms.

    def test_starttls_then_login(self):
        m = self.imaplib_client()
        self.assertIn("STARTTLS", m.capabilities)
        before = set(m.capabilities)
        typ, data = m.starttls(ssl_context=tls_context())
        self.assertEqual(typ, "OK", data)
        after = set(m.capabilities)
        if "AUTH=SCRAM-SHA-256" in before:
            self.assertIn("AUTH=SCRAM-SHA-256-PLUS", after, f"no channel binding offered after TLS: {after}")
        typ, data = m.login(USER, PASSWORD)
        self.assertEqual(typ, "OK", data)
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK", data)
        m.logout()

    def test_starttls_pipelined_input_not_executed(self):
        # Like CVE-2011-0411 for SMTP: a command sent in the clear after STARTTLS must never be executed
        # inside the TLS session. The server may discard it, or take it as (bad) handshake data.
        c = self.connect(login=False)
        c.send(b"S1 STARTTLS\r\nS2 NOOP\r\n")
        r = c.finish("S1")
        self.assertEqual(r.status, "OK", r)
        self.assertEqual(c.buf, b"", f"server answered before the TLS handshake: {c.buf!r}")
        try:
            c.sock = tls_context().wrap_socket(c.sock, server_hostname="localhost")
        except (ssl.SSLError, ConnectionError, OSError):
            return  # Handshake refused: the injected bytes did not become a command.
        c.send(b"S3 NOOP\r\n")
        try:
            resp = c.read_response()
            while resp.startswith(b"* "):
                resp = c.read_response()
        except (EOFError, ssl.SSLError, ConnectionError):
            return
        self.assertTrue(resp.startswith(b"S3 OK"), f"first tagged response in TLS: {resp!r}")
        c.login()

    def test_imaps_login(self):
        m = self.imaplib_client(tls=True)
        typ, data = m.login(USER, PASSWORD)
        self.assertEqual(typ, "OK", data)
        typ, data = m.list()
        self.assertEqual(typ, "OK", data)
        self.assertTrue(any(b"INBOX" in line for line in data), data)
        m.logout()

    def test_authenticate_plain(self):
        m = self.imaplib_client()
        typ, data = m.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode())
        self.assertEqual(typ, "OK", data)
        m.logout()
        # With an initial response (RFC 4959), and with an authorization identity equal to the user.
        c = self.connect(login=False)
        self.require(c, "SASL-IR", "AUTH=PLAIN")
        r = c.cmd("AUTHENTICATE PLAIN " + b64(f"{USER}\0{USER}\0{PASSWORD}"))
        self.assertEqual(r.status, "OK", f"AUTHENTICATE PLAIN with SASL-IR: {r}")
        c.ok("SELECT INBOX")

    def test_authenticate_cram_md5(self):
        m = self.imaplib_client()
        if "AUTH=CRAM-MD5" not in m.capabilities:
            self.skipTest("server does not advertise AUTH=CRAM-MD5")
        typ, data = m.login_cram_md5(USER, PASSWORD)
        self.assertEqual(typ, "OK", data)
        m.logout()
        # The same by hand, checking the challenge has the RFC 2195 form.
        c = self.connect(login=False)
        tag = c.next_tag()
        c.send(f"{tag} AUTHENTICATE CRAM-MD5\r\n".encode())
        resp = c.read_response()
        self.assertTrue(resp.startswith(b"+ "), resp)
        challenge = base64.b64decode(resp[2:], validate=True)
        self.assertRegex(challenge, rb"^<.+@.+>$")
        digest = hmac.new(PASSWORD.encode(), challenge, "md5").hexdigest()
        c.send(b64(f"{USER} {digest}").encode() + b"\r\n")
        self.assertEqual(c.finish(tag).status, "OK")

    def test_authenticate_scram(self):
        probe = self.connect(login=False)
        caps = probe.capabilities()
        for hash_name in ("sha256", "sha1"):
            mech = mechanism_name(hash_name)
            if "AUTH=" + mech not in caps:
                continue
            for sasl_ir in (True, False):
                if sasl_ir and "SASL-IR" not in caps:
                    continue
                with self.subTest(mech=mech, sasl_ir=sasl_ir):
                    c = self.connect(login=False)
                    r = self.scram(c, hash_name, sasl_ir=sasl_ir)
                    self.assertEqual(r.status, "OK", f"{mech}: {r}")
                    c.ok("SELECT INBOX")
        if "AUTH=SCRAM-SHA-256" not in caps:
            self.skipTest("server does not advertise AUTH=SCRAM-SHA-256")
        # With channel binding over implicit TLS.
        c = self.connect(port=IMAPS_PORT, tls=True, login=False)
        tls_caps = c.capabilities()
        self.assertIn("AUTH=SCRAM-SHA-256-PLUS", tls_caps, tls_caps)
        r = self.scram(c, "sha256", plus=True, sasl_ir="SASL-IR" in tls_caps)
        self.assertEqual(r.status, "OK", f"SCRAM-SHA-256-PLUS: {r}")
        c.ok("SELECT INBOX")

    # 3. Mailboxes: LIST variants, NAMESPACE, CREATE, DELETE, RENAME, SUBSCRIBE.

    def test_list_special_use(self):
        c = self.connect()
        caps = c.capabilities()
        boxes, _ = c.list('LIST "" "*"')
        self.assertIn("INBOX", boxes, boxes)
        for name, attr in SPECIAL_USE.items():
            self.assertIn(name, boxes, f"LIST * misses {name}: {boxes}")
            self.assertIn(attr.lower(), boxes[name], f"{name} without {attr}: {boxes[name]}")
        self.assertFalse({a.lower() for a in SPECIAL_USE.values()} & boxes["INBOX"], boxes["INBOX"])
        if "SPECIAL-USE" not in caps or "LIST-EXTENDED" not in caps:
            self.skipTest("server does not advertise SPECIAL-USE and LIST-EXTENDED")
        returned, _ = c.list('LIST "" "*" RETURN (SPECIAL-USE)')
        for name, attr in SPECIAL_USE.items():
            self.assertIn(attr.lower(), returned.get(name, set()), f"RETURN (SPECIAL-USE): {returned}")
        selected, _ = c.list('LIST (SPECIAL-USE) "" "*"')
        self.assertEqual(set(selected), set(SPECIAL_USE), "LIST (SPECIAL-USE) lists exactly the special-use mailboxes")
        for name, attr in SPECIAL_USE.items():
            self.assertIn(attr.lower(), selected[name])

    def test_list_percent_and_children(self):
        c = self.connect()
        caps = c.capabilities()
        base = self.name()
        c.ok(f"CREATE {q(base + '/child')}")
        top, _ = c.list('LIST "" "%"')
        self.assertIn("INBOX", top, top)
        self.assertIn(base, top, top)
        self.assertFalse([n for n in top if "/" in n], f'LIST "" "%" shows lower levels: {sorted(top)}')
        below, _ = c.list(f'LIST "" {q(base + "/%")}')
        self.assertEqual(set(below), {base + "/child"}, below)
        if "CHILDREN" in caps or "IMAP4REV2" in caps:
            self.assertIn("\\haschildren", top[base], top[base])
            self.assertIn("\\hasnochildren", below[base + "/child"], below)
        # An empty pattern asks for the hierarchy delimiter (RFC 9051 6.3.9).
        r = c.ok('LIST "" ""')
        (u,) = r.of("LIST")
        self.assertEqual(text(u.args[1]), "/", u.raw)

    def test_list_return_status(self):
        c = self.connect()
        self.require(c, "LIST-STATUS")
        box, _, _, _ = self.mailbox_with(c, 2, flags=["\\Seen", ""])
        r = c.ok('LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN))')
        listed = {text(u.args[2]) for u in r.of("LIST")}
        statuses = {}
        for u in r.of("STATUS"):
            lst = u.args[1]
            statuses[text(u.args[0])] = {lst[i].upper(): int(lst[i + 1]) for i in range(0, len(lst) - 1, 2)}
        self.assertIn(box, listed)
        self.assertEqual(statuses.get(box), {"MESSAGES": 2, "UNSEEN": 1}, statuses)
        self.assertIn("INBOX", statuses, statuses)
        self.assertEqual(set(statuses["INBOX"]), {"MESSAGES", "UNSEEN"})

    def test_compress_deflate(self):
        """RFC 4978: after COMPRESS DEFLATE both directions are raw DEFLATE streams."""
        import zlib

        c = self.connect()
        if "COMPRESS=DEFLATE" not in c.capabilities():
            self.skipTest("COMPRESS=DEFLATE not advertised")
        box = self.create_mailbox(c)
        tok = token()
        c.append(box, message(tok, subject="compressed " + "x" * 2000))
        r = c.ok("COMPRESS DEFLATE")
        self.assertIn("DEFLATE", r.text.upper())
        deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
        inflater = zlib.decompressobj(-15)
        sock = c.sock
        received = [0]

        def send(data):
            sock.sendall(deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH))

        def fill(timeout):
            sock.settimeout(timeout)
            data = sock.recv(65536)
            if not data:
                raise EOFError("connection closed by server")
            received[0] += len(data)
            c.buf += inflater.decompress(data)

        c.send = send
        c._fill = fill
        caps = c.capabilities()
        self.assertNotIn("COMPRESS=DEFLATE", caps, "COMPRESS=DEFLATE is advertised while active")
        c.select(box)
        body = c.fetch("1", "BODY.PEEK[]")[1]["BODY[]"]
        self.assertIn(tok.encode(), body if isinstance(body, bytes) else body.encode())
        again = c.cmd("COMPRESS DEFLATE")
        self.assertEqual(again.status, "NO")
        self.assertEqual(again.code.upper() if again.code else "", "COMPRESSIONACTIVE")
        self.assertGreater(received[0], 0)

    def test_namespace(self):
        c = self.connect()
        self.require(c, "NAMESPACE")
        r = c.ok("NAMESPACE")
        (u,) = r.of("NAMESPACE")
        self.assertEqual(u.args, [[["", "/"]], None, None], f'expected (("" "/")) NIL NIL: {u.raw!r}')

    def test_create_delete_rename(self):
        c = self.connect()
        base = self.name()
        c.ok(f"CREATE {q(base + '/b/c')}")
        boxes, _ = c.list(f'LIST "" {q(base + "*")}')
        for name in (base, base + "/b", base + "/b/c"):
            self.assertIn(name, boxes, f"CREATE {base}/b/c should create the parents: {sorted(boxes)}")
        c.ok(f"DELETE {q(base + '/b/c')}")
        boxes, _ = c.list(f'LIST "" {q(base + "*")}')
        self.assertEqual(set(boxes), {base, base + "/b"}, boxes)
        r = c.cmd(f"DELETE {q(base + '/nonexistent')}")
        self.assertEqual(r.status, "NO", f"DELETE of a mailbox that does not exist: {r}")
        # RENAME takes the children along (RFC 9051 6.3.6).
        c.ok(f"CREATE {q(base + '/b/c')}")
        _, uid = c.append(base + "/b/c", message(token()))
        c.ok(f"RENAME {q(base + '/b')} {q(base + '/r')}")
        boxes, _ = c.list(f'LIST "" {q(base + "*")}')
        self.assertEqual(set(boxes), {base, base + "/r", base + "/r/c"}, boxes)
        self.assertEqual(c.status(base + "/r/c", "MESSAGES")["MESSAGES"], 1, "the message moves along with RENAME")
        r = c.cmd(f"RENAME {q(base + '/r')} {q(base)}")
        self.assertEqual(r.status, "NO", f"RENAME onto an existing mailbox: {r}")
        r = c.cmd(f"RENAME {q(base + '/gone')} {q(base + '/x')}")
        self.assertEqual(r.status, "NO", f"RENAME of a mailbox that does not exist: {r}")
        for name in (base + "/r/c", base + "/r", base):
            c.ok(f"DELETE {q(name)}")
        boxes, _ = c.list(f'LIST "" {q(base + "*")}')
        self.assertEqual(boxes, {})

    def test_subscribe(self):
        c = self.connect()
        caps = c.capabilities()
        box = self.create_mailbox(c)
        # Whether CREATE subscribes is up to the server; start from "not subscribed".
        c.cmd(f"UNSUBSCRIBE {q(box)}")
        lsub, _ = c.list(f'LSUB "" {q(box)}')
        self.assertNotIn(box, lsub)
        c.ok(f"SUBSCRIBE {q(box)}")
        lsub, _ = c.list(f'LSUB "" {q(box)}')
        self.assertIn(box, lsub, "LSUB after SUBSCRIBE")
        if "LIST-EXTENDED" in caps:
            sub, _ = c.list(f'LIST (SUBSCRIBED) "" {q(box)}')
            self.assertIn("\\subscribed", sub.get(box, set()), f"LIST (SUBSCRIBED): {sub}")
            ret, _ = c.list(f'LIST "" {q(box)} RETURN (SUBSCRIBED)')
            self.assertIn("\\subscribed", ret.get(box, set()), f"RETURN (SUBSCRIBED): {ret}")
        c.ok(f"UNSUBSCRIBE {q(box)}")
        lsub, _ = c.list(f'LSUB "" {q(box)}')
        self.assertNotIn(box, lsub, "LSUB after UNSUBSCRIBE")
        if "LIST-EXTENDED" in caps:
            sub, _ = c.list(f'LIST (SUBSCRIBED) "" {q(box)}')
            self.assertNotIn(box, sub, "LIST (SUBSCRIBED) after UNSUBSCRIBE")
            plain, _ = c.list(f'LIST "" {q(box)} RETURN (SUBSCRIBED)')
            self.assertIn(box, plain, "RETURN (SUBSCRIBED) lists unsubscribed mailboxes too")
            self.assertNotIn("\\subscribed", plain[box], plain)

    def test_create_existing_select_nonexistent(self):
        c = self.connect()
        box = self.create_mailbox(c)
        r = c.cmd(f"CREATE {q(box)}")
        self.assertEqual(r.status, "NO", f"CREATE of an existing mailbox: {r}")
        self.assertEqual((r.code or "").split(" ")[0].upper(), "ALREADYEXISTS", f"response code: {r}")
        r = c.cmd("CREATE INBOX")
        self.assertEqual(r.status, "NO", f"CREATE INBOX: {r}")
        missing = "t" + token()[:12] + "-missing"
        r = c.cmd(f"SELECT {q(missing)}")
        self.assertEqual(r.status, "NO", f"SELECT of a mailbox that does not exist: {r}")
        self.assertEqual((r.code or "").upper(), "NONEXISTENT", f"response code: {r}")
        r = c.cmd(f"STATUS {q(missing)} (MESSAGES)")
        self.assertEqual(r.status, "NO", f"STATUS of a mailbox that does not exist: {r}")
        # RFC 3501 6.3.11: APPEND to a missing mailbox is an error with [TRYCREATE], nothing is created.
        r = c.cmd(f"APPEND {q(missing)} ", message(token()))
        self.assertEqual(r.status, "NO", f"APPEND to a mailbox that does not exist: {r}")
        self.assertEqual((r.code or "").upper(), "TRYCREATE", f"response code: {r}")
        boxes, _ = c.list(f'LIST "" {q(missing)}')
        self.assertEqual(boxes, {}, "APPEND must not create the mailbox")

    # 4. APPEND, STATUS, MULTIAPPEND.

    def test_append_and_status(self):
        c = self.connect()
        caps = c.capabilities()
        box = self.create_mailbox(c)
        items = "MESSAGES UIDNEXT UIDVALIDITY UNSEEN"
        if "STATUS=SIZE" in caps:
            items += " SIZE"
        if "CONDSTORE" in caps:
            items += " HIGHESTMODSEQ"
        st0 = c.status(box, items)
        self.assertEqual((st0["MESSAGES"], st0["UNSEEN"]), (0, 0), st0)

        msg1 = message(token(), subject="first")
        validity, uid1 = c.append(box, msg1, flags="\\Flagged mykw", date="01-Feb-2025 10:11:12 +0100")
        self.assertEqual(validity, st0["UIDVALIDITY"], "APPENDUID has the mailbox's UIDVALIDITY")
        self.assertGreaterEqual(uid1, st0["UIDNEXT"], "APPENDUID below the UIDNEXT before")
        st1 = c.status(box, items)
        self.assertEqual(st1["MESSAGES"], 1, st1)
        self.assertEqual(st1["UNSEEN"], 1, st1)
        self.assertEqual(st1["UIDVALIDITY"], validity, st1)
        self.assertGreater(st1["UIDNEXT"], uid1, st1)
        if "SIZE" in st1:
            self.assertEqual(st1["SIZE"], len(msg1), st1)

        msg2 = message(token(), subject="second", body="a longer body\r\n" * 10)
        validity2, uid2 = c.append(box, msg2, flags="\\Seen")
        self.assertEqual(validity2, validity)
        self.assertGreater(uid2, uid1, "UIDs increase")
        st2 = c.status(box, items)
        self.assertEqual((st2["MESSAGES"], st2["UNSEEN"]), (2, 1), st2)
        self.assertGreater(st2["UIDNEXT"], uid2, st2)
        if "SIZE" in st2:
            self.assertEqual(st2["SIZE"], len(msg1) + len(msg2), st2)
        if "HIGHESTMODSEQ" in st2:
            self.assertGreater(st2["HIGHESTMODSEQ"], st1["HIGHESTMODSEQ"], "HIGHESTMODSEQ grows with APPEND")

        c.select(box)
        f = c.fetch("1:2", "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        self.assertEqual(int(f[1]["UID"]), uid1)
        self.assertEqual(int(f[2]["UID"]), uid2)
        self.assertEqual(flagset(f[1]["FLAGS"]), {"\\flagged", "mykw"}, f[1]["FLAGS"])
        self.assertEqual(flagset(f[2]["FLAGS"]), {"\\seen"}, f[2]["FLAGS"])
        want = datetime.datetime(2025, 2, 1, 9, 11, 12, tzinfo=datetime.timezone.utc)
        self.assertEqual(parse_internaldate(f[1]["INTERNALDATE"]), want, f[1]["INTERNALDATE"])
        self.assertEqual(f[1]["BODY[]"], msg1)
        self.assertEqual(f[2]["BODY[]"], msg2)
        self.assertEqual(int(f[2]["RFC822.SIZE"]), len(msg2))

    def test_multiappend(self):
        c = self.connect()
        self.require(c, "MULTIAPPEND", "UIDPLUS")
        box = self.create_mailbox(c)
        msg1, msg2 = message(token(), subject="one"), message(token(), subject="two")
        r = c.ok(f"APPEND {q(box)} (\\Seen) ", msg1, ' (\\Flagged) "02-Mar-2025 12:00:00 +0000" ', msg2)
        args = r.code_args("APPENDUID")
        self.assertIsNotNone(args, f"MULTIAPPEND without [APPENDUID]: {r}")
        validity, uids = args.split()
        uids = uidset(uids)
        self.assertEqual(len(uids), 2, f"APPENDUID of two messages: {args}")
        self.assertEqual(int(validity), c.status(box, "UIDVALIDITY")["UIDVALIDITY"])
        self.assertEqual(c.status(box, "MESSAGES")["MESSAGES"], 2)
        c.select(box)
        f = c.fetch("1:2", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
        self.assertEqual([int(f[1]["UID"]), int(f[2]["UID"])], uids)
        self.assertEqual((f[1]["BODY[]"], f[2]["BODY[]"]), (msg1, msg2))
        self.assertEqual(flagset(f[1]["FLAGS"]), {"\\seen"})
        self.assertEqual(flagset(f[2]["FLAGS"]), {"\\flagged"})
        self.assertEqual(parse_internaldate(f[2]["INTERNALDATE"]),
                         datetime.datetime(2025, 3, 2, 12, 0, 0, tzinfo=datetime.timezone.utc))

    # 5. SELECT, EXAMINE, FETCH.

    def test_select_and_examine(self):
        c = self.connect()
        box, _, msgs, uids = self.mailbox_with(c, 2, flags=["\\Seen", ""])
        validity = c.status(box, "UIDVALIDITY")["UIDVALIDITY"]
        r = c.select(box)
        self.assertEqual(r.exists(), 2, f"EXISTS: {r}")
        flags = r.of("FLAGS")
        self.assertEqual(len(flags), 1, f"one FLAGS response: {r}")
        self.assertTrue({"\\seen", "\\deleted", "\\flagged", "\\answered", "\\draft"} <= flagset(flags[0].args[0]),
                        flags[0].raw)
        permanent = r.code_args("PERMANENTFLAGS")
        self.assertIsNotNone(permanent, f"no [PERMANENTFLAGS]: {r}")
        self.assertIn("\\seen", permanent.lower())
        self.assertIn("\\deleted", permanent.lower())
        self.assertIn("\\*", permanent, "keywords can be created")
        self.assertEqual(int(r.code_args("UIDVALIDITY") or -1), validity, f"[UIDVALIDITY]: {r}")
        self.assertGreater(int(r.code_args("UIDNEXT") or -1), uids[-1], f"[UIDNEXT]: {r}")
        self.assertEqual((r.code or "").upper(), "READ-WRITE", f"tagged SELECT response: {r}")

        r = c.select(box, command="EXAMINE")
        self.assertEqual((r.code or "").upper(), "READ-ONLY", f"tagged EXAMINE response: {r}")
        self.assertEqual(r.exists(), 2, f"EXISTS: {r}")
        # Read-only: no flag changes, and BODY[] does not set \Seen (RFC 9051 6.3.3).
        r = c.cmd("STORE 2 +FLAGS (\\Flagged)")
        self.assertIn(r.status, ("NO", "BAD"), f"STORE in an EXAMINEd mailbox: {r}")
        f = c.fetch("2", "(BODY[])")
        self.assertEqual(f[2]["BODY[]"], msgs[1])
        self.assertEqual(flagset(c.fetch("2", "(FLAGS)")[2]["FLAGS"]), set(), "EXAMINE must not set flags")

    def test_fetch_attributes_and_envelope(self):
        c = self.connect()
        box = self.create_mailbox(c)
        tok = token()
        date = "Tue, 04 Mar 2025 07:08:09 +0100"
        msg = message(tok, subject=f"envelope {tok}", date=date,
                      extra_headers="Cc: carol@example.net, Dave <dave@example.net>\r\n")
        _, uid = c.append(box, msg, flags="\\Flagged", date="05-Mar-2025 08:09:10 +0000")
        c.select(box)
        f = c.fetch("1", "(FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE)")[1]
        self.assertEqual(flagset(f["FLAGS"]), {"\\flagged"})
        self.assertEqual(int(f["UID"]), uid)
        self.assertEqual(parse_internaldate(f["INTERNALDATE"]),
                         datetime.datetime(2025, 3, 5, 8, 9, 10, tzinfo=datetime.timezone.utc))
        self.assertEqual(int(f["RFC822.SIZE"]), len(msg))
        env = f["ENVELOPE"]
        self.assertEqual(len(env), 10, env)
        self.assertEqual(text(env[0]), date, "envelope date")
        self.assertEqual(text(env[1]), f"envelope {tok}", "envelope subject")
        alice = [["Alice Example", None, "alice", "example.org"]]
        self.assertEqual([[text(x) for x in a] for a in env[2]], alice, "envelope from")
        # Sender and Reply-To default to From (RFC 9051 7.5.2).
        self.assertEqual([[text(x) for x in a] for a in env[3]], alice, "envelope sender")
        self.assertEqual([[text(x) for x in a] for a in env[4]], alice, "envelope reply-to")
        self.assertEqual([[text(x) for x in a] for a in env[5]], [["Bob", None, "bob", "example.com"]], "to")
        self.assertEqual([[text(x) for x in a] for a in env[6]],
                         [[None, None, "carol", "example.net"], ["Dave", None, "dave", "example.net"]], "cc")
        self.assertIsNone(env[7], "bcc")
        self.assertIsNone(env[8], "in-reply-to")
        self.assertEqual(text(env[9]), f"<{tok}@mox.test>", "message-id")
        # UID FETCH includes UID in its responses.
        f = c.fetch(str(uid), "(FLAGS)", uid=True)
        self.assertEqual(int(f[1]["UID"]), uid, f)

    ATTACHMENT = bytes(range(256)) * 4

    def multipart_message(self, tok):
        encoded = base64.b64encode(self.ATTACHMENT).decode()
        lines = [encoded[i:i + 76] for i in range(0, len(encoded), 76)]
        self.part2_body = "\r\n".join(lines).encode()
        self.part2_header = (
            b'Content-Type: application/octet-stream; name="data.bin"\r\n'
            b'Content-Disposition: attachment; filename="data.bin"\r\n'
            b"Content-Transfer-Encoding: base64\r\n"
        )
        self.part1_body = (
            b"--inner\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"\r\n"
            b"plain text\r\n"
            b"--inner\r\n"
            b"Content-Type: text/html; charset=utf-8\r\n"
            b"\r\n"
            b"<p>html text</p>\r\n"
            b"--inner--"
        )
        body = (
            b"This is a multi-part message in MIME format.\r\n"
            b"--outer\r\n"
            b'Content-Type: multipart/alternative; boundary="inner"\r\n'
            b"\r\n" + self.part1_body + b"\r\n"
            b"--outer\r\n" + self.part2_header + b"\r\n" + self.part2_body + b"\r\n"
            b"--outer--\r\n"
        )
        return message(tok, subject=f"structure {tok}",
                       extra_headers='MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="outer"\r\n',
                       body=body.decode())

    def test_fetch_bodystructure_and_sections(self):
        c = self.connect()
        box = self.create_mailbox(c)
        tok = token()
        msg = self.multipart_message(tok)
        c.append(box, msg)
        c.select(box)
        r = c.ok("FETCH 1 (BODYSTRUCTURE)")
        raw = b"".join(u.raw for u in r.of("FETCH"))
        bs = r.fetches()[1]["BODYSTRUCTURE"]

        def split_multipart(node):
            i = 0
            while i < len(node) and isinstance(node[i], list):
                i += 1
            return node[:i], text(node[i]).upper()

        parts, subtype = split_multipart(bs)
        self.assertEqual(subtype, "MIXED", bs)
        self.assertEqual(len(parts), 2, bs)
        alternatives, subtype = split_multipart(parts[0])
        self.assertEqual(subtype, "ALTERNATIVE", parts[0])
        self.assertEqual([(text(p[0]).upper(), text(p[1]).upper()) for p in alternatives],
                         [("TEXT", "PLAIN"), ("TEXT", "HTML")])
        att = parts[1]
        self.assertEqual((text(att[0]).upper(), text(att[1]).upper()), ("APPLICATION", "OCTET-STREAM"), att)
        self.assertEqual(text(att[5]).upper(), "BASE64", att)
        self.assertEqual(int(att[6]), len(self.part2_body), "body size in its transfer encoding")
        self.assertIn(b"data.bin", raw, "attachment file name")
        self.assertIn(b"ALTERNATIVE", raw.upper())

        header, _, body = msg.partition(b"\r\n\r\n")
        f = c.fetch("1", "(BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] "
                         "BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT)] BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[1.1] "
                         "BODY.PEEK[2.MIME] BODY.PEEK[]<0.10>)")[1]
        self.assertEqual(f["BODY[]"], msg, "BODY[] is the message as appended")
        # Header fetches include the blank line that ends the header (RFC 9051 6.4.5).
        self.assertEqual(f["BODY[HEADER]"], header + b"\r\n\r\n")
        lines = header.split(b"\r\n")
        self.assertEqual(f["BODY[HEADER.FIELDS (SUBJECT FROM)]"],
                         b"".join(line + b"\r\n" for line in lines if line.startswith((b"From:", b"Subject:")))
                         + b"\r\n")
        self.assertEqual(f["BODY[HEADER.FIELDS.NOT (SUBJECT)]"],
                         b"".join(line + b"\r\n" for line in lines if not line.startswith(b"Subject:")) + b"\r\n")
        self.assertEqual(f["BODY[TEXT]"], body)
        self.assertEqual(f["BODY[1]"], self.part1_body, "part 1 ends before the CRLF of the next boundary")
        self.assertEqual(f["BODY[1.1]"], b"plain text")
        self.assertEqual(f["BODY[2.MIME]"], self.part2_header + b"\r\n")
        self.assertEqual(f.get("BODY[]<0>"), msg[:10], f"partial fetch: {sorted(f)}")
        flags = c.fetch("1", "(FLAGS)")[1]["FLAGS"]
        self.assertNotIn("\\seen", flagset(flags), "BODY.PEEK must not set \\Seen")

    def test_fetch_binary(self):
        c = self.connect()
        self.require(c, "BINARY")
        box = self.create_mailbox(c)
        c.append(box, self.multipart_message(token()))
        c.select(box)
        f = c.fetch("1", "(BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1.1] BINARY.SIZE[1.1])")[1]
        self.assertEqual(f.get("BINARY[2]"), self.ATTACHMENT, "BINARY[2] is the decoded attachment")
        self.assertEqual(int(f["BINARY.SIZE[2]"]), len(self.ATTACHMENT))
        self.assertEqual(f.get("BINARY[1.1]"), b"plain text")
        self.assertEqual(int(f["BINARY.SIZE[1.1]"]), len(b"plain text"))
        self.assertNotIn("\\seen", flagset(c.fetch("1", "(FLAGS)")[1]["FLAGS"]))

    def test_fetch_body_sets_seen(self):
        c = self.connect()
        box, _, msgs, _ = self.mailbox_with(c, 2)
        c.select(box)
        f = c.fetch("1", "(BODY[])")
        self.assertEqual(f[1]["BODY[]"], msgs[0])
        self.assertIn("\\seen", flagset(c.fetch("1", "(FLAGS)")[1]["FLAGS"]), "BODY[] sets \\Seen")
        self.assertNotIn("\\seen", flagset(c.fetch("2", "(FLAGS)")[2]["FLAGS"]), "only on the fetched message")
        f = c.fetch("2", "(BODY[TEXT])")
        self.assertEqual(f[2]["BODY[TEXT]"], b"hello\r\n")
        self.assertIn("\\seen", flagset(c.fetch("2", "(FLAGS)")[2]["FLAGS"]), "BODY[TEXT] sets \\Seen")
        self.assertEqual(c.status(box, "UNSEEN")["UNSEEN"], 0)

    # 6. STORE.

    def test_store_flags(self):
        c = self.connect()
        box, _, _, uids = self.mailbox_with(c, 3)
        c.select(box)

        def flags_of(r, seq):
            f = r.fetches()
            self.assertIn(seq, f, f"no untagged FETCH for message {seq}: {r}")
            self.assertIn("FLAGS", f[seq], f"untagged FETCH without FLAGS: {r}")
            return flagset(f[seq]["FLAGS"])

        def current(seq):
            return flagset(c.fetch(str(seq), "(FLAGS)")[seq]["FLAGS"])

        r = c.ok("STORE 1 +FLAGS (\\Flagged)")
        self.assertEqual(flags_of(r, 1), {"\\flagged"})
        r = c.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        self.assertNotIn(1, r.fetches(), f".SILENT still sent FETCH: {r}")
        self.assertEqual(current(1), {"\\flagged", "\\seen"})
        r = c.ok("STORE 1 -FLAGS (\\Flagged)")
        self.assertEqual(flags_of(r, 1), {"\\seen"})
        r = c.ok("STORE 2 FLAGS ($Forwarded mykw)")
        self.assertEqual(flags_of(r, 2), {"$forwarded", "mykw"})
        r = c.ok("STORE 2 FLAGS.SILENT (\\Answered)")
        self.assertNotIn(2, r.fetches(), f".SILENT still sent FETCH: {r}")
        self.assertEqual(current(2), {"\\answered"})
        r = c.ok("STORE 2 -FLAGS.SILENT (\\Answered)")
        self.assertEqual(current(2), set())
        r = c.ok(f"UID STORE {uids[2]} +FLAGS ($Forwarded mykw \\Draft)")
        f = r.fetches()
        self.assertIn(3, f, f"UID STORE: no untagged FETCH: {r}")
        self.assertEqual(int(f[3].get("UID", -1)), uids[2], f"UID STORE response without UID: {r}")
        self.assertEqual(flagset(f[3]["FLAGS"]), {"$forwarded", "mykw", "\\draft"})
        r = c.ok("STORE 1:* +FLAGS (\\Deleted)")
        self.assertEqual(sorted(r.fetches()), [1, 2, 3], f"a FETCH per message: {r}")
        self.assertEqual(c.search("KEYWORD mykw"), [3])
        self.assertEqual(c.search("UNKEYWORD mykw"), [1, 2])
        self.assertEqual(c.search("DELETED"), [1, 2, 3])
        # Keywords are case-insensitive.
        c.ok("STORE 3 -FLAGS (MYKW)")
        self.assertEqual(current(3), {"$forwarded", "\\draft", "\\deleted"})

    # 7. SEARCH, ESEARCH, SEARCHRES.

    def search_fixture(self, c):
        """Four messages of known senders, dates, sizes and flags in a new mailbox; returns (name, uids, toks)."""
        box = self.create_mailbox(c)
        spec = [
            ("Alice <alice@example.org>", "Bob <bob@example.com>", "Apple pie", "The quick brown fox\r\n",
             "\\Flagged", (2024, 1, 1)),
            ("Carol <carol@example.org>", "Dave <dave@example.com>", "Banana bread", "lazy dog JUMPS\r\n",
             "\\Seen", (2024, 6, 15)),
            ("Alice <alice@example.org>", "Dave <dave@example.com>", "Cherry tart", ("y" * 78 + "\r\n") * 60,
             "\\Seen \\Deleted", (2025, 1, 1)),
            ("Erin <erin@example.org>", "Bob <bob@example.com>", "Date loaf", "nothing special\r\n",
             "", (2025, 3, 10)),
        ]
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        uids, toks = [], []
        for sender, to, subject, body, flags, (y, mo, d) in spec:
            tok = token()
            day = datetime.date(y, mo, d).strftime("%a")
            msg = message(tok, subject=f"{subject} {tok}", body=body, sender=sender, to=to,
                          date=f"{day}, {d:02d} {months[mo - 1]} {y} 12:00:00 +0000")
            _, uid = c.append(box, msg, flags=flags, date=f"{d:02d}-{months[mo - 1]}-{y} 12:00:00 +0000")
            uids.append(uid)
            toks.append(tok)
        c.select(box)
        return box, uids, toks

    def test_search(self):
        c = self.connect()
        _, uids, toks = self.search_fixture(c)
        u1, u2, u3, u4 = uids
        cases = [
            ("ALL", [1, 2, 3, 4]),
            (f"UID {u2}:{u3}", [2, 3]),
            (f"UID {u1},{u4}", [1, 4]),
            ("FLAGGED", [1]),
            ("UNSEEN", [1, 4]),
            ("SEEN", [2, 3]),
            ("DELETED", [3]),
            ("UNDELETED", [1, 2, 4]),
            ("FROM alice", [1, 3]),
            ('FROM "ALICE@EXAMPLE.ORG"', [1, 3]),
            ("TO dave", [2, 3]),
            ("SUBJECT banana", [2]),
            ('BODY "quick BROWN"', [1]),
            ("BODY cherry", []),
            ("TEXT cherry", [3]),
            ("TEXT jumps", [2]),
            (f"HEADER Message-ID {q('<' + toks[1] + '@mox.test>')}", [2]),
            ("LARGER 3000", [3]),
            ("SMALLER 3000", [1, 2, 4]),
            ("SINCE 1-Jan-2025", [3, 4]),
            ("BEFORE 1-Jan-2025", [1, 2]),
            ("ON 15-Jun-2024", [2]),
            ("SENTSINCE 1-Jan-2025", [3, 4]),
            ("SENTBEFORE 15-Jun-2024", [1]),
            ("SENTON 10-Mar-2025", [4]),
            ("OR FROM carol FROM erin", [2, 4]),
            ("NOT SEEN", [1, 4]),
            ("NOT (OR SEEN FLAGGED)", [4]),
            ("OR (FLAGGED FROM alice) (SUBJECT date NOT SEEN)", [1, 4]),
            ("(FROM alice (OR DELETED TO bob))", [1, 3]),
            ("2:*", [2, 3, 4]),
            ("2:* FROM alice", [3]),
            ("*", [4]),
            ("1,3 SEEN", [3]),
            ("SUBJECT nomatch-at-all", []),
        ]
        for criteria, want in cases:
            with self.subTest(criteria=criteria):
                self.assertEqual(c.search(criteria), want, f"SEARCH {criteria}")
        self.assertEqual(c.search("ALL", uid=True), uids, "UID SEARCH ALL")
        self.assertEqual(c.search("FROM alice", uid=True), [u1, u3], "UID SEARCH FROM alice")
        self.assertEqual(c.search(f"UID {u3}:*", uid=True), [u3, u4])
        self.assertEqual(c.search("CHARSET UTF-8 SUBJECT apple", uid=True), [u1])

    def test_esearch(self):
        c = self.connect()
        self.require(c, "ESEARCH")
        _, uids, _ = self.search_fixture(c)
        u1, u2, u3, u4 = uids

        def esearch(command):
            r = c.ok(command)
            self.assertEqual(r.of("SEARCH"), [], f"SEARCH response to an ESEARCH request: {r}")
            (u,) = r.of("ESEARCH")
            args = list(u.args)
            self.assertTrue(args and isinstance(args[0], list), f"ESEARCH without (TAG ...): {u.raw!r}")
            self.assertEqual([text(x).upper() if i == 0 else text(x) for i, x in enumerate(args[0])],
                             ["TAG", r.tag], u.raw)
            args = args[1:]
            is_uid = bool(args) and text(args[0]).upper() == "UID"
            if is_uid:
                args = args[1:]
            return is_uid, {text(args[i]).upper(): text(args[i + 1]) for i in range(0, len(args) - 1, 2)}, u.raw

        is_uid, res, raw = esearch("UID SEARCH RETURN (MIN MAX COUNT ALL) FROM alice")
        self.assertTrue(is_uid, f"UID SEARCH result without UID: {raw!r}")
        self.assertEqual(int(res["MIN"]), u1, raw)
        self.assertEqual(int(res["MAX"]), u3, raw)
        self.assertEqual(int(res["COUNT"]), 2, raw)
        self.assertEqual(uidset(res["ALL"]), [u1, u3], raw)

        is_uid, res, raw = esearch("SEARCH RETURN (COUNT) ALL")
        self.assertFalse(is_uid, raw)
        self.assertEqual(res, {"COUNT": "4"}, raw)
        # No match: only COUNT 0 (RFC 4731 3.1).
        is_uid, res, raw = esearch("SEARCH RETURN (MIN MAX COUNT) SUBJECT nomatch-at-all")
        self.assertEqual(res, {"COUNT": "0"}, raw)
        # RETURN () means RETURN (ALL).
        is_uid, res, raw = esearch("SEARCH RETURN () UNSEEN")
        self.assertEqual(uidset(res["ALL"]), [1, 4], raw)

    def test_searchres(self):
        c = self.connect()
        self.require(c, "SEARCHRES")
        _, uids, _ = self.search_fixture(c)
        r = c.ok("SEARCH RETURN (SAVE) FROM alice")
        self.assertEqual(r.of("SEARCH") + r.of("ESEARCH"), [], f"RETURN (SAVE) alone returns no result: {r}")
        f = c.fetch("$", "(UID)")
        self.assertEqual(sorted(f), [1, 3], f"FETCH $: {f}")
        self.assertEqual(sorted(int(v["UID"]) for v in f.values()), [uids[0], uids[2]])
        self.assertEqual(c.search("$ SEEN"), [3], "SEARCH $ SEEN")
        self.assertEqual(c.search("UID $", uid=True), [uids[0], uids[2]], "UID SEARCH UID $")

    # 8. COPY, MOVE, EXPUNGE, CLOSE, UNSELECT.

    def test_copy(self):
        c = self.connect()
        src, _, msgs, uids = self.mailbox_with(c, 3, flags=["\\Flagged", "mykw", ""])
        dst = self.create_mailbox(c)
        dst_validity = c.status(dst, "UIDVALIDITY")["UIDVALIDITY"]
        c.select(src)
        r = c.ok(f"COPY 1:2 {q(dst)}")
        args = r.code_args("COPYUID")
        self.assertIsNotNone(args, f"COPY without [COPYUID]: {r}")
        validity, src_uids, dst_uids = args.split()
        self.assertEqual(int(validity), dst_validity, "COPYUID has the destination's UIDVALIDITY")
        self.assertEqual(uidset(src_uids), uids[:2])
        dst_uids = uidset(dst_uids)
        self.assertEqual(len(dst_uids), 2)
        self.assertEqual(r.of("EXPUNGE"), [], "COPY does not expunge")
        self.assertEqual(c.search("ALL"), [1, 2, 3], "the source keeps its messages")
        r = c.cmd(f"COPY 3 {q(dst + '-missing')}")
        self.assertEqual(r.status, "NO", r)
        self.assertEqual((r.code or "").upper(), "TRYCREATE", f"COPY to a missing mailbox: {r}")

        d = self.connect()
        d.select(dst)
        f = d.fetch(",".join(map(str, dst_uids)), "(UID FLAGS BODY.PEEK[])", uid=True)
        by_uid = {int(v["UID"]): v for v in f.values()}
        self.assertEqual(sorted(by_uid), dst_uids)
        for i, uid in enumerate(dst_uids):
            self.assertEqual(by_uid[uid]["BODY[]"], msgs[i], "copies in COPYUID order")
        self.assertEqual(flagset(by_uid[dst_uids[0]]["FLAGS"]), {"\\flagged"}, "COPY keeps flags")
        self.assertEqual(flagset(by_uid[dst_uids[1]]["FLAGS"]), {"mykw"}, "COPY keeps keywords")

    def test_move(self):
        c = self.connect()
        self.require(c, "MOVE")
        src, _, msgs, uids = self.mailbox_with(c, 3)
        dst = self.create_mailbox(c)
        dst_validity = c.status(dst, "UIDVALIDITY")["UIDVALIDITY"]
        c.select(src)
        r = c.ok(f"MOVE 2 {q(dst)}")
        # RFC 6851 4.3: COPYUID comes in an untagged OK before the EXPUNGEs (or with the tagged OK).
        args = r.code_args("COPYUID")
        self.assertIsNotNone(args, f"MOVE without COPYUID: {r}")
        validity, src_uids, dst_uids = args.split()
        self.assertEqual(int(validity), dst_validity)
        self.assertEqual(uidset(src_uids), [uids[1]])
        self.assertEqual([u.num for u in r.of("EXPUNGE")], [2], f"MOVE must expunge message 2: {r}")
        self.assertEqual(c.search("ALL", uid=True), [uids[0], uids[2]])

        r = c.ok(f"UID MOVE {uids[2]} {q(dst)}")
        args = r.code_args("COPYUID")
        self.assertIsNotNone(args, f"UID MOVE without COPYUID: {r}")
        self.assertEqual(uidset(args.split()[1]), [uids[2]])
        self.assertEqual([u.num for u in r.of("EXPUNGE")], [2], f"UID MOVE: {r}")
        self.assertEqual(c.search("ALL", uid=True), [uids[0]])
        self.assertEqual(c.status(dst, "MESSAGES")["MESSAGES"], 2)

        d = self.connect()
        d.select(dst)
        f = d.fetch("1:*", "(BODY.PEEK[])")
        self.assertEqual(sorted(v["BODY[]"] for v in f.values()), sorted([msgs[1], msgs[2]]))

    def test_expunge(self):
        c = self.connect()
        box, _, _, uids = self.mailbox_with(c, 5)
        c.select(box)
        c.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        r = c.ok("EXPUNGE")
        expunged = [u.num for u in r.of("EXPUNGE")]
        self.assertEqual(len(expunged), 2, f"two EXPUNGE responses: {r}")
        # Each EXPUNGE counts in the sequence numbers left by the ones before (RFC 9051 7.5.1).
        remaining = list(uids)
        for n in expunged:
            self.assertTrue(1 <= n <= len(remaining), f"EXPUNGE {n} with {len(remaining)} messages left: {r}")
            del remaining[n - 1]
        self.assertEqual(remaining, [uids[0], uids[2], uids[4]], f"EXPUNGE responses {expunged} remove the wrong messages")
        self.assertEqual(c.search("ALL", uid=True), remaining)
        r = c.ok("EXPUNGE")
        self.assertEqual(r.of("EXPUNGE"), [], "nothing left to expunge")

    def test_uid_expunge(self):
        c = self.connect()
        self.require(c, "UIDPLUS")
        box, _, _, uids = self.mailbox_with(c, 4)
        c.select(box)
        c.ok("STORE 1,3 +FLAGS.SILENT (\\Deleted)")
        r = c.ok(f"UID EXPUNGE {uids[2]}")
        self.assertEqual([u.num for u in r.of("EXPUNGE")], [3], f"UID EXPUNGE {uids[2]}: {r}")
        self.assertEqual(c.search("ALL", uid=True), [uids[0], uids[1], uids[3]])
        self.assertEqual(c.search("DELETED", uid=True), [uids[0]], "the other \\Deleted message stays")
        r = c.ok(f"UID EXPUNGE {uids[1]}:{uids[3]}")
        self.assertEqual(r.of("EXPUNGE"), [], "UID EXPUNGE only removes \\Deleted messages")

    def test_close_and_unselect(self):
        c = self.connect()
        box, _, _, _ = self.mailbox_with(c, 3)
        c.select(box)
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        r = c.ok("CLOSE")
        self.assertEqual(r.of("EXPUNGE"), [], f"CLOSE expunges silently: {r}")
        r = c.cmd("FETCH 1 (FLAGS)")
        self.assertIn(r.status, ("BAD", "NO"), f"FETCH after CLOSE: {r}")
        self.assertEqual(c.status(box, "MESSAGES")["MESSAGES"], 2, "CLOSE expunged the \\Deleted message")

        # CLOSE of a read-only mailbox removes nothing.
        c.select(box)
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        c.select(box, command="EXAMINE")
        c.ok("CLOSE")
        self.assertEqual(c.status(box, "MESSAGES")["MESSAGES"], 2, "CLOSE after EXAMINE must not expunge")

        if "UNSELECT" not in c.capabilities():
            self.skipTest("server does not advertise UNSELECT")
        c.select(box)
        r = c.ok("UNSELECT")
        self.assertEqual(r.of("EXPUNGE"), [], r)
        self.assertEqual(c.status(box, "MESSAGES")["MESSAGES"], 2, "UNSELECT must not expunge")
        c.select(box)
        self.assertEqual(c.search("DELETED"), [1])

    # 9. Two sessions.

    def test_two_sessions(self):
        a = self.connect()
        box, _, _, uids = self.mailbox_with(a, 2)
        a.select(box)
        b = self.connect()

        _, uid3 = b.append(box, message(token()))
        seen = self.poll(a, lambda us: any(u.name == "EXISTS" and u.num == 3 for u in us))
        self.assertTrue(any(u.name == "EXISTS" and u.num == 3 for u in seen), f"no '* 3 EXISTS' after APPEND: {seen}")

        b.select(box)
        b.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")

        def flagged(us):
            return [u for u in us if u.name == "FETCH" and u.num == 1
                    and "\\flagged" in flagset(u.fetch_items().get("FLAGS", []))]

        seen = self.poll(a, flagged)
        self.assertTrue(flagged(seen), f"no '* 1 FETCH (FLAGS (\\Flagged))' after another session's STORE: {seen}")

        b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        b.ok("EXPUNGE")
        seen = self.poll(a, lambda us: any(u.name == "EXPUNGE" for u in us))
        self.assertEqual([u.num for u in seen if u.name == "EXPUNGE"], [2], f"EXPUNGE seen by session A: {seen}")
        self.assertEqual(a.search("ALL", uid=True), [uids[0], uid3])
        f = a.fetch("2", "(UID)")
        self.assertEqual(int(f[2]["UID"]), uid3, "sequence numbers shift after the expunge")

    # 10. IDLE.

    def test_idle_sees_delivery(self):
        c = self.connect()
        self.require(c, "IDLE")
        exists = c.select("INBOX").exists()
        tag = self.start_idle(c)

        tok = token()
        with smtplib.SMTP(HOST, SMTP_PORT, local_hostname="client.example", timeout=30) as s:
            s.sendmail("sender@example.org", ["someone@localhost"], message(tok, sender="<sender@example.org>"))
            t250 = time.monotonic()
        delay, u, got = self.wait_untagged(c, "EXISTS", t250)
        self.assertIsNotNone(u, f"no EXISTS during IDLE within 10s of SMTP 250; got {got}")
        num = u.num
        self.assertEqual(num, exists + 1, f"EXISTS count during IDLE: {got}")
        self.assertLessEqual(delay, 1.0, f"EXISTS came {delay:.2f}s after the SMTP 250")
        c.send(b"DONE\r\n")
        r = c.finish(tag)
        self.assertEqual(r.status, "OK", f"IDLE after DONE: {r}")
        f = c.fetch(str(num), "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        self.assertIn(tok.encode(), f[num]["BODY[HEADER.FIELDS (MESSAGE-ID)]"], "the delivered message")

    def test_idle_sees_import_by_another_process(self):
        # `mox import` writes the account's files from another process while the server runs;
        # the server notices the commit and an IDLE session gets the EXISTS.
        c = self.connect()
        exists = c.select("INBOX").exists()
        tag = self.start_idle(c)
        tok = token()
        mbox = os.path.join(self.base, f"import-{tok}.mbox")
        with open(mbox, "wb") as f:
            f.write(b"From sender@example.org Mon Jan  1 00:00:00 2024\n" + message(tok).replace(b"\r\n", b"\n"))
        r = subprocess.run([MOX, "-config", os.path.join(self.dir, "mox.conf"), "import", "mbox", "mox", "Inbox", mbox],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        delay, u, got = self.wait_untagged(c, "EXISTS", time.monotonic())
        self.assertIsNotNone(u, f"no EXISTS within 10s of the import; got {got}")
        self.assertEqual(u.num, exists + 1)
        self.assertLessEqual(delay, 3.0, f"EXISTS {delay:.2f}s after the import finished")
        c.send(b"DONE\r\n")
        self.assertEqual(c.finish(tag).status, "OK")

    def tls_client_certificate(self, name):
        """A new Ed25519 key and certificate from `mox config tlspubkey gen`: (cert, key, stderr)."""
        conf = os.path.join(self.dir, "mox.conf")
        stem = os.path.join(self.base, name)
        r = subprocess.run([MOX, "-config", conf, "config", "tlspubkey", "gen", stem], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        made = sorted(n for n in os.listdir(self.base) if n.startswith(name + "."))
        self.assertEqual(len(made), 3, made)
        cert = os.path.join(self.base, next(n for n in made if n.endswith(".certificate.pem")))
        key = os.path.join(self.base, next(n for n in made if n.endswith(".ed25519privatekey.pkcs8.pem")))
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        return cert, key, r.stderr

    def imaps_with_certificate(self, cert, key):
        """An IMAPS connection presenting the client certificate: (socket, file, greeting)."""
        ctx = tls_context()
        ctx.load_cert_chain(cert, key)
        s = ctx.wrap_socket(socket.create_connection((HOST, IMAPS_PORT), timeout=30), server_hostname="localhost")
        self.addCleanup(s.close)
        f = s.makefile("rb")
        return s, f, f.readline()

    def test_tls_client_certificate_external_and_preauth(self):
        # RFC 4422 appendix A (EXTERNAL), RFC 9051 7.1.4 (PREAUTH): a key added with
        # `mox config tlspubkey add` logs in over IMAP and SMTP submission; an unknown one is
        # offered EXTERNAL but not logged in.
        # The key and certificate from `mox config tlspubkey gen`, as a mox user makes them.
        conf = os.path.join(self.dir, "mox.conf")
        cert, key, generated = self.tls_client_certificate("laptop")
        self.assertIn("ed25519 public key fingerprint: ", generated)
        with open(cert, "rb") as f:
            r = subprocess.run([MOX, "-config", conf, "config", "tlspubkey", "add", "mox@localhost", "laptop"],
                               stdin=f, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        fingerprint = r.stdout.strip().split()[-1]
        self.assertIn(f"ed25519 public key fingerprint: {fingerprint}\n", generated, "gen and add agree")
        listed = subprocess.run([MOX, "-config", conf, "config", "tlspubkey", "list"],
                                capture_output=True, text=True, check=True).stdout
        self.assertIn(f"{fingerprint}\ted25519\tmox\tmox@localhost\tlaptop", listed)

        # IMAPS: logged in from the greeting on.
        s, f, greeting = self.imaps_with_certificate(cert, key)
        self.assertTrue(greeting.startswith(b"* PREAUTH "), greeting)
        s.sendall(b"a1 SELECT INBOX\r\n")
        line = f.readline()
        while not line.startswith(b"a1 "):
            line = f.readline()
        self.assertTrue(line.startswith(b"a1 OK"), line)

        # STARTTLS with the certificate, then AUTHENTICATE EXTERNAL with an empty authorization id.
        p = socket.create_connection((HOST, IMAP_PORT), timeout=30)
        pf = p.makefile("rb")
        pf.readline()
        p.sendall(b"s1 STARTTLS\r\n")
        self.assertTrue(pf.readline().startswith(b"s1 OK"))
        ctx = tls_context()
        ctx.load_cert_chain(cert, key)
        t = ctx.wrap_socket(p, server_hostname="localhost")
        self.addCleanup(t.close)
        tf = t.makefile("rb")
        t.sendall(b"s2 CAPABILITY\r\n")
        caps = tf.readline()
        self.assertIn(b" AUTH=EXTERNAL", caps)
        tf.readline()
        t.sendall(b"s3 AUTHENTICATE EXTERNAL =\r\n")
        self.assertTrue(tf.readline().startswith(b"s3 OK"))

        # A certificate whose key no account has: offered EXTERNAL, refused at it.
        other_cert, other_key, _ = self.tls_client_certificate("unknown-client")
        u, uf, greeting = self.imaps_with_certificate(other_cert, other_key)
        self.assertTrue(greeting.startswith(b"* OK ") and b"AUTH=EXTERNAL" in greeting, greeting)
        u.sendall(b"u1 AUTHENTICATE EXTERNAL =\r\n")
        self.assertTrue(uf.readline().startswith(b"u1 NO [AUTHENTICATIONFAILED]"))

        # SMTP submission (RFC 4954, RFC 4422 appendix A): with the certificate, EHLO offers
        # EXTERNAL and it logs in, with an initial response on 1465 and after an empty 334
        # challenge with STARTTLS on 1587; the message then goes through.
        def with_certificate(c, k):
            ctx = tls_context()
            ctx.load_cert_chain(c, k)
            return ctx
        with smtplib.SMTP_SSL(HOST, SUBMISSIONS_PORT, context=with_certificate(cert, key), timeout=30) as smtp:
            smtp.ehlo("client.example")
            self.assertIn("EXTERNAL", smtp.esmtp_features.get("auth", "").split())
            code, text = smtp.docmd("AUTH", "EXTERNAL =")
            self.assertEqual(code, 235, text)
            refused = smtp.sendmail("mox@localhost", ["mox@localhost"],
                                    b"From: mox@localhost\r\nTo: mox@localhost\r\n"
                                    b"Subject: sent with a certificate\r\n\r\nEXTERNAL\r\n")
            self.assertEqual(refused, {})
        with smtplib.SMTP(HOST, SUBMISSION_PORT, timeout=30) as smtp:
            smtp.starttls(context=with_certificate(cert, key))
            smtp.ehlo("client.example")
            code, text = smtp.docmd("AUTH", "EXTERNAL")
            self.assertEqual(code, 334, text)
            code, text = smtp.docmd("")
            self.assertEqual(code, 235, text)
        # Without a certificate there is no EXTERNAL; with an unknown key it is refused.
        with smtplib.SMTP_SSL(HOST, SUBMISSIONS_PORT, context=tls_context(), timeout=30) as smtp:
            smtp.ehlo("client.example")
            self.assertNotIn("EXTERNAL", smtp.esmtp_features.get("auth", "").split())
            code, _ = smtp.docmd("AUTH", "EXTERNAL =")
            self.assertEqual(code, 504)
        with smtplib.SMTP_SSL(HOST, SUBMISSIONS_PORT, context=with_certificate(other_cert, other_key),
                              timeout=30) as smtp:
            smtp.ehlo("client.example")
            code, text = smtp.docmd("AUTH", "EXTERNAL =")
            self.assertEqual(code, 535, text)

        r = subprocess.run([MOX, "-config", conf, "config", "tlspubkey", "rm", fingerprint],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        _, _, greeting = self.imaps_with_certificate(cert, key)
        self.assertTrue(greeting.startswith(b"* OK "), "a removed key no longer logs in")

    def test_notify_between_commands(self):
        # RFC 5465: after NOTIFY SET the client gets events without sending a command: EXISTS and
        # the requested FETCH for the selected mailbox, STATUS for another watched one.
        c = self.connect()
        self.require(c, "NOTIFY")
        exists = c.select("INBOX").exists()
        r = c.cmd("NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]) MessageExpunge))"
                  " (mailboxes Archive (MessageNew MessageExpunge))")
        self.assertEqual(r.status, "OK", f"NOTIFY SET: {r}")
        tok = token()
        with smtplib.SMTP(HOST, SMTP_PORT, local_hostname="client.example", timeout=30) as s:
            s.sendmail("sender@example.org", ["someone@localhost"], message(tok, sender="<sender@example.org>"))
            t250 = time.monotonic()
        delay, u, got = self.wait_untagged(c, "FETCH", t250)
        self.assertIsNotNone(u, f"no FETCH between commands within 10s of SMTP 250; got {got}")
        num, raw = u.num, u.raw
        self.assertEqual(num, exists + 1)
        self.assertIn(tok.encode(), raw, "the new message's Message-ID in the NOTIFY FETCH")
        self.assertLessEqual(delay, 1.0, f"the FETCH came {delay:.2f}s after the SMTP 250")
        self.assertTrue(any(u.name == "EXISTS" and u.num == num for u in got), f"EXISTS before the FETCH: {got}")
        # A message appended to the watched Archive, by another connection: a STATUS response.
        other = self.connect()
        other.append("Archive", message(token()))
        resp = c.read_response(timeout=5)
        self.assertTrue(resp.upper().startswith(b"* STATUS ARCHIVE (MESSAGES "), f"STATUS for Archive: {resp!r}")
        r = c.cmd("NOTIFY NONE")
        self.assertEqual(r.status, "OK")

    # 11. CONDSTORE.

    def test_condstore(self):
        c = self.connect()
        self.require(c, "CONDSTORE", "ENABLE")
        box, _, _, uids = self.mailbox_with(c, 3)
        r = c.ok("ENABLE CONDSTORE")
        enabled = {text(a).upper() for u in r.of("ENABLED") for a in u.args}
        self.assertIn("CONDSTORE", enabled, f"ENABLE CONDSTORE: {r}")
        r = c.select(box)
        highest = r.code_args("HIGHESTMODSEQ")
        self.assertIsNotNone(highest, f"SELECT after ENABLE CONDSTORE without [HIGHESTMODSEQ]: {r}")
        m = int(highest)
        f = c.fetch("1:*", "(MODSEQ)")
        modseqs = {seq: int(v["MODSEQ"][0]) for seq, v in f.items()}
        self.assertEqual(sorted(modseqs), [1, 2, 3], f)
        self.assertLessEqual(max(modseqs.values()), m, "no message above HIGHESTMODSEQ")

        r = c.ok("STORE 2 +FLAGS (\\Flagged)")
        f2 = r.fetches().get(2, {})
        self.assertIn("MODSEQ", f2, f"STORE response with CONDSTORE enabled has MODSEQ: {r}")
        m2 = int(f2["MODSEQ"][0])
        self.assertGreater(m2, m)

        r = c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {m})")
        f = r.fetches()
        self.assertEqual(sorted(f), [2], f"CHANGEDSINCE {m}: only message 2 changed: {r}")
        self.assertEqual(int(f[2]["MODSEQ"][0]), m2, "CHANGEDSINCE implies MODSEQ")
        self.assertIn("\\flagged", flagset(f[2]["FLAGS"]))
        f = c.fetch("1:*", f"(FLAGS) (CHANGEDSINCE {m})", uid=True)
        self.assertEqual([int(v["UID"]) for v in f.values()], [uids[1]])

        # Message 2 changed after m: the conditional STORE skips it and reports it.
        r = c.ok(f"STORE 1:2 (UNCHANGEDSINCE {m}) +FLAGS (\\Seen)")
        modified = r.code_args("MODIFIED")
        self.assertIsNotNone(modified, f"STORE UNCHANGEDSINCE on a changed message without [MODIFIED]: {r}")
        self.assertEqual(uidset(modified), [2], r)
        self.assertIn("\\seen", flagset(c.fetch("1", "(FLAGS)")[1]["FLAGS"]), "message 1 was unchanged: stored")
        self.assertNotIn("\\seen", flagset(c.fetch("2", "(FLAGS)")[2]["FLAGS"]), "message 2 must not be stored")

        r = c.ok(f"SEARCH MODSEQ {m + 1}")
        (u,) = r.of("SEARCH")
        nums = sorted(int(a) for a in u.args if isinstance(a, str) and a.isdigit())
        self.assertEqual(nums, [1, 2], f"SEARCH MODSEQ {m + 1}: {u.raw!r}")
        self.assertTrue(u.args and isinstance(u.args[-1], list) and u.args[-1][0].upper() == "MODSEQ",
                        f"SEARCH MODSEQ result without (MODSEQ n): {u.raw!r}")
        # Another session, with SELECT (CONDSTORE), sees the same HIGHESTMODSEQ as STATUS.
        d = self.connect()
        r = d.select(box, extra=" (CONDSTORE)")
        highest = int(r.code_args("HIGHESTMODSEQ") or -1)
        self.assertGreaterEqual(highest, m2)
        self.assertEqual(d.status(box, "HIGHESTMODSEQ")["HIGHESTMODSEQ"], highest)

    # 12. Errors.

    def test_errors_keep_connection_usable(self):
        c = self.connect(login=False)
        r = c.cmd("SELECT INBOX")
        self.assertIn(r.status, ("BAD", "NO"), f"SELECT before LOGIN: {r}")
        c.login()
        r = c.cmd("FETCH 1 (FLAGS)")
        self.assertIn(r.status, ("BAD", "NO"), f"FETCH without a selected mailbox: {r}")
        r = c.cmd("FROBNICATE now")
        self.assertEqual(r.status, "BAD", f"unknown command: {r}")
        c.ok("NOOP")
        box, _, _, _ = self.mailbox_with(c, 1)
        c.select(box)
        for bad in ("FETCH 1:* (FLAGS", "FETCH 1 (NOSUCHITEM)", "FETCH x:y (FLAGS)", "STORE 1 +FLAGS",
                    "STORE 1 NOSUCH (\\Seen)", "SEARCH NOSUCHKEY", "SEARCH (FLAGGED", "UID FROBNICATE 1",
                    'LIST ""'):
            with self.subTest(command=bad):
                r = c.cmd(bad)
                self.assertEqual(r.status, "BAD", f"{bad}: {r}")
                c.ok("NOOP")
        f = c.fetch("1", "(FLAGS)")
        self.assertIn(1, f, "the connection still works")

    def test_append_literal_too_big(self):
        c = self.connect()
        box = self.create_mailbox(c)
        tag = c.next_tag()
        c.send(f"{tag} APPEND {q(box)} {{999999999999}}\r\n".encode())
        try:
            resp = c.read_response(timeout=10)
            while resp.startswith(b"* "):
                resp = c.read_response(timeout=10)
        except socket.timeout:
            self.fail("no answer within 10s to APPEND of a 999999999999 octet literal")
        self.assertFalse(resp.startswith(b"+"), "the server asked for 999999999999 octets")
        r = Result(tag, resp, [])
        self.assertIn(r.status, ("NO", "BAD"), r)
        if r.status == "NO":
            self.assertEqual((r.code or "").upper(), "TOOBIG", f"NO for a too big literal: {r}")
        c.ok("NOOP")
        self.assertEqual(c.status(box, "MESSAGES")["MESSAGES"], 0)
        c.append(box, message(token()))

    # 13. Mailbox names: modified UTF-7, UTF8=ACCEPT.

    def test_utf7_mailbox_name(self):
        c = self.connect()
        base = self.name()
        name = base + "-&AOk-t&AOk-"  # "-été" in modified UTF-7 (RFC 3501 5.1.3)
        c.ok(f"CREATE {q(name)}")
        boxes, _ = c.list(f'LIST "" {q(base + "*")}')
        self.assertEqual(set(boxes), {name}, f"LIST returns the modified UTF-7 name: {boxes}")
        c.append(name, message(token()))
        r = c.select(name)
        self.assertEqual(r.exists(), 1)
        c.ok(f"RENAME {q(name)} {q(base + '-&AOk-')}")
        boxes, _ = c.list(f'LIST "" {q(base + "*")}')
        self.assertEqual(set(boxes), {base + "-&AOk-"}, boxes)

    def test_utf8_accept(self):
        c = self.connect()
        self.require(c, "ENABLE", "UTF8=ACCEPT")
        base = self.name()
        c.ok(f"CREATE {q(base + '-&AOk-t&AOk-')}")
        d = self.connect()
        r = d.ok("ENABLE UTF8=ACCEPT")
        enabled = {text(a).upper() for u in r.of("ENABLED") for a in u.args}
        self.assertIn("UTF8=ACCEPT", enabled, f"ENABLE UTF8=ACCEPT: {r}")
        boxes, _ = d.list(f'LIST "" {q(base + "*")}')
        self.assertEqual(set(boxes), {base + "-été"}, f"LIST after UTF8=ACCEPT returns UTF-8: {boxes}")
        d.select(base + "-été")
        d.ok(f"CREATE {q(base + '-ünï')}")
        boxes, _ = c.list(f'LIST "" {q(base + "*")}')
        self.assertEqual(set(boxes), {base + "-&AOk-t&AOk-", base + "-&APw-n&AO8-"},
                         f"a session without UTF8=ACCEPT sees modified UTF-7: {boxes}")

    # 14. mbsync (isync).

    def mbsync(self, rc, home):
        try:
            p = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, timeout=60,
                               env=dict(os.environ, HOME=home))
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"") + (e.stderr or b"")
            self.fail(f"mbsync did not finish within 60s:\n{out.decode('utf-8', 'replace')}")
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, f"mbsync exited with {p.returncode}:\n{out}")
        return out

    def server_messages(self, c, box):
        """{message-id: set of system flags} of a mailbox, via FETCH."""
        system = {"\\seen", "\\flagged", "\\answered", "\\draft", "\\deleted"}
        c.select(box)
        out = {}
        if not c.search("ALL"):
            return out
        for v in c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])").values():
            m = re.search(rb"<([^>]+)>", v["BODY[HEADER.FIELDS (MESSAGE-ID)]"])
            out[m.group(1).decode()] = flagset(v["FLAGS"]) & system
        return out

    @unittest.skipUnless(shutil.which("mbsync"), "mbsync (isync) is not installed (apt-get install isync)")
    def test_mbsync_two_way(self):
        p = subprocess.run(["mbsync", "--version"], capture_output=True, text=True, timeout=30)
        m = re.search(r"(\d+)\.(\d+)", p.stdout + p.stderr)
        version = (int(m.group(1)), int(m.group(2))) if m else (1, 4)
        # isync 1.5 renamed SSLType to TLSType; 1.4 renamed Master/Slave to Far/Near.
        tls_keyword = "TLSType" if version >= (1, 5) else "SSLType"
        far, near = ("Far", "Near") if version >= (1, 4) else ("Master", "Slave")

        c = self.connect()
        box = self.create_mailbox(c)
        toks = [token() for _ in range(3)]
        for i, tok in enumerate(toks):
            c.append(box, message(tok, subject=f"mbsync {i}"), flags="\\Seen" if i == 1 else None)

        work = tempfile.mkdtemp(prefix="mbsync-", dir=self.base)
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        maildir = os.path.join(work, "mail")
        os.makedirs(maildir)
        rc = os.path.join(work, "mbsyncrc")
        with open(rc, "w", encoding="utf-8") as f:
            f.write(
                f"IMAPAccount mox\n"
                f"Host {HOST}\n"
                f"Port {IMAP_PORT}\n"
                f"User {USER}\n"
                f"Pass {PASSWORD}\n"
                f"{tls_keyword} None\n"
                f"AuthMechs LOGIN\n"
                f"\n"
                f"IMAPStore mox-far\n"
                f"Account mox\n"
                f"\n"
                f"MaildirStore mox-near\n"
                f"Path {maildir}/\n"
                f"Inbox {os.path.join(work, 'inbox')}\n"
                f"SubFolders Verbatim\n"
                f"\n"
                f"Channel mox\n"
                f"{far} :mox-far:\n"
                f"{near} :mox-near:\n"
                f"Patterns * INBOX\n"
                f"Create Both\n"
                f"Expunge Both\n"
                f"SyncState *\n"
            )
        local_dir = os.path.join(maildir, box)
        ids = [f"{t}@mox.test" for t in toks]

        out = self.mbsync(rc, work)
        local = read_maildir(local_dir)
        self.assertEqual(set(local), set(ids), f"first sync, local Maildir:\n{out}")
        self.assertEqual(local[ids[1]][1], {"\\seen"}, f"\\Seen synced to the Maildir:\n{out}")
        self.assertEqual(local[ids[0]][1], set())

        # A new local message, and a local flag.
        tok_new = token()
        new_id = f"{tok_new}@mox.test"
        with open(os.path.join(local_dir, "new", f"{int(time.time())}.{os.getpid()}_{tok_new[:8]}.localhost"),
                  "wb") as f:
            f.write(message(tok_new, subject="from the maildir").replace(b"\r\n", b"\n"))
        path, flags = local[ids[0]]
        base_name = os.path.basename(path).split(":2,", 1)[0]
        os.rename(path, os.path.join(local_dir, "cur", base_name + ":2,F"))

        out = self.mbsync(rc, work)
        c.select(box)
        found = c.search(f"HEADER Message-ID {q('<' + new_id + '>')}")
        self.assertEqual(len(found), 1, f"local message uploaded once:\n{out}")
        server = self.server_messages(c, box)
        self.assertEqual(server.get(ids[0]), {"\\flagged"}, f"local flag F synced to the server:\n{out}")

        # Delete on the server; the sync removes it locally.
        c.select(box)
        seq = c.search(f"HEADER Message-ID {q('<' + ids[2] + '>')}")
        self.assertEqual(len(seq), 1)
        c.ok(f"STORE {seq[0]} +FLAGS.SILENT (\\Deleted)")
        c.ok("EXPUNGE")
        c.ok("UNSELECT" if "UNSELECT" in c.capabilities() else "NOOP")
        out = self.mbsync(rc, work)
        local = read_maildir(local_dir)
        self.assertNotIn(ids[2], local, f"message deleted on the server is still in the Maildir:\n{out}")

        server = self.server_messages(c, box)
        local_flags = {mid: flags for mid, (_, flags) in local.items()}
        self.assertEqual(local_flags, server, f"server and Maildir differ after sync:\n{out}")
        self.assertEqual(set(server), {ids[0], ids[1], new_id})


if __name__ == "__main__":
    unittest.main()
