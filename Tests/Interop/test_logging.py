"""Log lines of `mox localserve`: mox's logfmt, levels from mox.conf, protocol traces.

At LogLevel trace the SMTP and IMAP dialogues are logged and credentials never are (not the
password, not its base64 form); at traceauth they are; message data only at tracedata.
"""

import base64
import imaplib
import os
import re
import smtplib
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import HOST, PASSWORD, PORTS, USER, Localserve, tls_context


def parse_logfmt(line):
    """key=value pairs; values bare or double-quoted with backslash escapes. None if malformed."""
    pairs = []
    i = 0
    n = len(line)
    while i < n:
        m = re.compile(r"[^\s=\"]+").match(line, i)
        if not m or m.end() >= n or line[m.end()] != "=":
            return None
        key = m.group(0)
        i = m.end() + 1
        if i < n and line[i] == '"':
            i += 1
            value = []
            while True:
                if i >= n:
                    return None
                c = line[i]
                if c == "\\":
                    i += 1
                    if i >= n:
                        return None
                    value.append({"n": "\n", "r": "\r", "t": "\t"}.get(line[i], line[i]))
                elif c == '"':
                    i += 1
                    break
                else:
                    value.append(c)
                i += 1
            value = "".join(value)
        else:
            j = line.find(" ", i)
            j = n if j < 0 else j
            value = line[i:j]
            i = j
        pairs.append((key, value))
        if i < n:
            if line[i] != " ":
                return None
            i += 1
    return pairs


def set_log_level(level):
    def prepare(directory):
        path = os.path.join(directory, "mox.conf")
        with open(path) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^LogLevel: .*$", f"LogLevel: {level}", text)
        assert n == 1, text
        with open(path, "w") as f:
            f.write(text)

    return prepare


def exchange(tok):
    """An authenticated submission with AUTH PLAIN and an IMAP LOGIN, with tok in the message."""
    s = smtplib.SMTP(HOST, PORTS["submission"], local_hostname="client.example", timeout=30)
    s.starttls(context=tls_context())
    s.ehlo("client.example")
    # AUTH PLAIN with an initial response (RFC 4954 4), the credentials on the command line.
    s.auth("PLAIN", lambda challenge=None: f"\0{USER}\0{PASSWORD}")
    s.sendmail(USER, ["someone@example.org"], f"From: <{USER}>\r\nSubject: {tok}\r\n\r\nbody {tok}\r\n".encode())
    s.quit()
    c = imaplib.IMAP4(HOST, PORTS["imap"], timeout=30)
    c.starttls(ssl_context=tls_context())
    c.login(USER, PASSWORD)
    c.logout()


class LoggingTest(unittest.TestCase):
    def run_at(self, level):
        server = Localserve(prepare=set_log_level(level))
        self.addCleanup(server.cleanup)
        tok = uuid.uuid4().hex
        exchange(tok)
        code, out = server.stop()
        self.assertEqual(code, 0, out)
        lines = [l for l in out.splitlines() if l.startswith("l=")]
        self.assertTrue(lines, out)
        parsed = []
        for line in lines:
            pairs = parse_logfmt(line)
            self.assertIsNotNone(pairs, f"not logfmt: {line!r}")
            keys = [k for k, _ in pairs]
            self.assertEqual(keys[:2], ["l", "m"], line)
            self.assertIn("pkg", keys, line)
            parsed.append(dict(pairs))
        return tok, out, parsed

    @staticmethod
    def log_lines(out):
        """The log lines alone (localserve also prints its account's password in its summary)."""
        return "\n".join(l for l in out.splitlines() if l.startswith("l="))

    def secrets(self):
        plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
        return [PASSWORD, plain]

    def test_info_has_connections_and_no_traces(self):
        tok, out, lines = self.run_at("info")
        out = self.log_lines(out)
        self.assertFalse([l for l in lines if l["l"].startswith("trace")])
        smtp = [
            l
            for l in lines
            if l.get("pkg") == "smtpserver" and l["m"] == "new connection" and l["local"].endswith(":1587")
        ]
        self.assertTrue(smtp)
        self.assertEqual(smtp[0]["submission"], "true")
        self.assertRegex(smtp[0]["cid"], r"^[0-9a-f]+$")
        closed = [l for l in lines if l["m"] == "connection closed" and l.get("cid") == smtp[0]["cid"]]
        self.assertEqual(len(closed), 1)
        for secret in self.secrets():
            self.assertNotIn(secret, out)

    def test_trace_shows_the_dialogue_and_no_credentials(self):
        tok, out, lines = self.run_at("trace")
        out = self.log_lines(out)
        traces = [l["m"] for l in lines if l["l"] == "trace" and l.get("pkg") == "smtpserver"]
        self.assertIn("RC: ehlo client.example\r\n", traces)
        self.assertTrue(any(t.startswith("LS: 220 ") for t in traces))
        self.assertTrue(any(t.lower().startswith("rc: mail from:") for t in traces))
        imap = [l["m"] for l in lines if l["l"] == "trace" and l.get("pkg") == "imapserver"]
        self.assertTrue(any(" LOGOUT" in t for t in imap))
        # Credentials and message data are hidden, with their level on the line.
        self.assertTrue([l for l in lines if l["l"] == "traceauth" and l["m"].endswith(": ***")])
        self.assertTrue([l for l in lines if l["l"] == "tracedata" and l["m"].endswith(": ...")])
        for secret in self.secrets():
            self.assertNotIn(secret, out)
        self.assertNotIn(f"body {tok}", out)

    def test_traceauth_shows_credentials(self):
        tok, out, lines = self.run_at("traceauth")
        self.assertIn(base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(), out)
        self.assertIn(PASSWORD, out)
        self.assertNotIn(f"body {tok}", out)

    def test_tracedata_shows_message_data(self):
        tok, out, lines = self.run_at("tracedata")
        self.assertIn(f"body {tok}", out)


if __name__ == "__main__":
    unittest.main()
