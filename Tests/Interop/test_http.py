"""The HTTP side of `mox localserve`, driven by real clients: prometheus_client's parser on
/metrics, Thunderbird's autoconfig and Microsoft's autodiscover documents, the MTA-STS policy,
and domains.conf's webserver (WebStatic checked with curl, WebForward against Python's
http.server as the upstream, WebRedirect). Also: a client that floods a request body without
reading, and one that reads a large file slowly, cost bounded memory while others are served.

localserve's ports: 1080 (HTTP), 1443 (HTTPS), 1081 (metrics). AutoconfigHTTPS and MTASTSHTTPS
are added to the listener on 1443 and an MTASTS policy to the localhost domain.
"""

import http.client
import http.server
import imaplib
import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import threading
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from localserve import HOST, MOX, PASSWORD, USER, Localserve, PeakRSS, tls_context

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover - make test installs python3-prometheus-client
    text_string_to_metric_families = None

HTTP, HTTPS, METRICS = 1080, 1443, 1081

# mox's metrics that this server has, with their type and label names (from mox's source).
MOX_METRICS = {
    "mox_authentication_ratelimited_total": ("counter", {"kind"}),
    "mox_authentication_total": ("counter", {"kind", "variant", "result"}),
    "mox_autoconf_request_total": ("counter", {"domain"}),
    "mox_autodiscover_request_total": ("counter", {"domain"}),
    "mox_connections_count": ("gauge", {"protocol", "listener"}),
    "mox_httpserver_request_duration_seconds": ("histogram", {"handler", "proto", "method", "code"}),
    "mox_httpserver_response_duration_seconds": ("histogram", {"handler", "proto", "method", "code"}),
    "mox_imap_command_duration_seconds": ("histogram", {"cmd", "result"}),
    "mox_imap_connection_total": ("counter", {"service"}),
    "mox_logging_level_error_total": ("counter", set()),
    "mox_logging_level_info_total": ("counter", set()),
    "mox_logging_level_warn_total": ("counter", set()),
    "mox_panic_total": ("counter", {"pkg"}),
    "mox_queue_connection_total": ("counter", {"result"}),
    "mox_queue_delivery_duration_seconds": ("histogram", {"attempt", "transport", "tlsmode", "result"}),
    "mox_queue_hold": ("gauge", set()),
    "mox_smtpserver_command_duration_seconds": ("histogram", {"kind", "cmd", "code", "ecode"}),
    "mox_smtpserver_connection_total": ("counter", {"kind"}),
    "mox_smtpserver_delivery_starttls_errors_total": ("counter", {"reason"}),
    "mox_smtpserver_delivery_starttls_total": ("counter", set()),
    "mox_smtpserver_delivery_total": ("counter", {"result", "reason"}),
    "mox_smtpserver_errors_total": ("counter", {"error"}),
    "mox_smtpserver_submission_total": ("counter", {"result"}),
}

STATIC_FILE = bytes(range(256)) * 16  # 4 KiB
BIG_SIZE = 256 * 1024 * 1024


class Upstream(http.server.ThreadingHTTPServer):
    """Python's http.server answering every request with what it received, as JSON."""

    daemon_threads = True


class EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        out = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("latin-1"),
            }
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "python")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def edit(path, anchor, addition):
    """Inserts `addition` after the first `anchor` in the file."""
    with open(path) as f:
        text = f.read()
    assert anchor in text, anchor
    with open(path, "w") as f:
        f.write(text.replace(anchor, anchor + addition, 1))


def request(method, path, host="localhost", port=HTTP, tls=False, body=None, headers=None):
    conn = (
        http.client.HTTPSConnection(HOST, port, context=tls_context(), timeout=30)
        if tls
        else http.client.HTTPConnection(HOST, port, timeout=30)
    )
    try:
        h = {"Host": host}
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def curl(*args):
    out = subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True, check=True)
    return out.stdout


class HTTPTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream_port = free_port()
        cls.dead_port = free_port()
        cls.upstream = Upstream((HOST, cls.upstream_port), EchoHandler)
        cls.upstream_thread = threading.Thread(target=cls.upstream.serve_forever, daemon=True)
        cls.upstream_thread.start()
        cls.addClassCleanup(cls.upstream.server_close)
        cls.addClassCleanup(cls.upstream.shutdown)

        def prepare(d):
            web = os.path.join(d, "web")
            os.makedirs(os.path.join(web, "sub dir"))
            with open(os.path.join(web, "file.bin"), "wb") as f:
                f.write(STATIC_FILE)
            with open(os.path.join(web, "index.txt"), "w") as f:
                f.write("not an index\n")
            with open(os.path.join(web, "sub dir", "index.html"), "w") as f:
                f.write("<!doctype html><p>index of sub dir</p>\n")
            with open(os.path.join(web, "big.bin"), "wb") as f:
                f.truncate(BIG_SIZE)
            edit(
                os.path.join(d, "mox.conf"),
                "\t\tWebserverHTTPS:\n\t\t\tEnabled: true\n\t\t\tPort: 1443\n",
                "\t\tAutoconfigHTTPS:\n\t\t\tEnabled: true\n\t\t\tPort: 1443\n"
                "\t\tMTASTSHTTPS:\n\t\t\tEnabled: true\n\t\t\tPort: 1443\n",
            )
            path = os.path.join(d, "domains.conf")
            edit(
                path,
                "\tlocalhost:\n",
                "\t\tMTASTS:\n\t\t\tPolicyID: 20261206T000000\n\t\t\tMode: enforce\n\t\t\tMaxAge: 24h0m0s\n"
                "\t\t\tMX:\n\t\t\t\t- localhost\n\t\t\t\t- *.mx.localhost\n",
            )
            with open(path) as f:
                conf = f.read()
            conf += (
                "\t-\n\t\tLogName: static\n\t\tDomain: localhost\n\t\tPathRegexp: ^/static/\n"
                "\t\tDontRedirectPlainHTTP: true\n"
                "\t\tWebStatic:\n\t\t\tStripPrefix: /static/\n\t\t\tRoot: web\n\t\t\tListFiles: true\n"
                "\t\t\tResponseHeaders:\n\t\t\t\tX-Static: yes\n"
                f"\t-\n\t\tLogName: app\n\t\tDomain: localhost\n\t\tPathRegexp: ^/app/\n"
                "\t\tDontRedirectPlainHTTP: true\n"
                f"\t\tWebForward:\n\t\t\tStripPath: true\n\t\t\tURL: http://{HOST}:{cls.upstream_port}/base/\n"
                "\t\t\tResponseHeaders:\n\t\t\t\tX-Proxy: mox\n"
                f"\t-\n\t\tLogName: dead\n\t\tDomain: localhost\n\t\tPathRegexp: ^/dead/\n"
                "\t\tDontRedirectPlainHTTP: true\n"
                f"\t\tWebForward:\n\t\t\tURL: http://{HOST}:{cls.dead_port}/\n"
                "\t-\n\t\tDomain: localhost\n\t\tPathRegexp: ^/old/\n\t\tDontRedirectPlainHTTP: true\n"
                "\t\tWebRedirect:\n\t\t\tOrigPathRegexp: ^/old/(.*)$\n\t\t\tReplacePath: /static/$1\n"
                "\t\t\tStatusCode: 307\n"
                "\t-\n\t\tDomain: localhost\n\t\tPathRegexp: ^/secure/\n"
                "\t\tWebStatic:\n\t\t\tStripPrefix: /secure/\n\t\t\tRoot: web\n"
            )
            with open(path, "w") as f:
                f.write(conf)

        cls.server = Localserve(ports=("smtp", "submission", "imap"), prepare=prepare)
        cls.addClassCleanup(cls.server.cleanup)
        deadline = time.monotonic() + 30
        for port in (HTTP, HTTPS, METRICS):
            while True:
                try:
                    socket.create_connection((HOST, port), timeout=2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"no listener on {port}:\n{cls.server.output()}")
                    time.sleep(0.2)

    # Metrics

    def test_metrics_parse_with_prometheus_client_and_use_mox_names(self):
        if text_string_to_metric_families is None:
            self.skipTest("prometheus_client not installed (apt-get install python3-prometheus-client)")
        with smtplib.SMTP(HOST, 1587, timeout=30) as s:
            s.ehlo()
            s.user, s.password = USER, "wrong password"
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                s.auth("PLAIN", s.auth_plain)
        with smtplib.SMTP(HOST, 1587, timeout=30) as s:
            s.ehlo()
            s.login(USER, PASSWORD)
            s.sendmail(USER, [USER], b"From: " + USER.encode() + b"\r\nTo: " + USER.encode() + b"\r\nSubject: metrics\r\n\r\nbody\r\n")
        imap = imaplib.IMAP4(HOST, 1143)
        imap.login(USER, PASSWORD)
        imap.select("Inbox")
        imap.logout()
        request("GET", "/static/file.bin")

        status, headers, body = request("GET", "/metrics", port=METRICS)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"), headers["content-type"])
        families = {}
        samples = []
        for family in text_string_to_metric_families(body.decode()):
            name = family.name + "_total" if family.type == "counter" else family.name
            families[name] = family
            samples.extend(family.samples)
        for name, family in families.items():
            if not name.startswith("mox_"):
                continue
            self.assertIn(name, MOX_METRICS, f"{name} is not one of mox's metrics")
            kind, labels = MOX_METRICS[name]
            self.assertEqual(family.type, kind, name)
            for sample in family.samples:
                self.assertEqual(set(sample.labels) - {"le"}, labels, f"{sample.name} {sample.labels}")
        for name in ("process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds"):
            self.assertTrue(any(s.name == name for s in samples), name)

        def value(name, **labels):
            for s in samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
            self.fail(f"no sample {name} {labels}")

        self.assertGreaterEqual(value("mox_smtpserver_connection_total", kind="submission"), 2)
        self.assertGreaterEqual(value("mox_authentication_total", kind="submission", result="ok"), 1)
        self.assertGreaterEqual(value("mox_authentication_total", kind="submission", result="badcreds"), 1)
        self.assertGreaterEqual(value("mox_authentication_total", kind="imap", variant="login", result="ok"), 1)
        self.assertGreaterEqual(value("mox_smtpserver_submission_total", result="ok"), 1)
        self.assertGreaterEqual(value("mox_imap_connection_total", service="imap"), 1)
        self.assertGreaterEqual(value("mox_imap_command_duration_seconds_count", cmd="select", result="ok"), 1)
        self.assertGreaterEqual(value("mox_smtpserver_command_duration_seconds_count", kind="submission", cmd="ehlo", code="250"), 2)
        self.assertGreaterEqual(
            value("mox_httpserver_request_duration_seconds_count", handler="static", proto="http", method="get", code="200"), 1
        )
        self.assertGreaterEqual(value("mox_logging_level_info_total"), 1)
        self.assertIn("mox_panic_total", families)

        status, _, body = request("GET", "/", port=METRICS)
        self.assertEqual(status, 200)
        self.assertIn(b"href=\"metrics\"", body)
        status, _, _ = request("GET", "/other", port=METRICS)
        self.assertEqual(status, 404)

    # Mail client autoconfiguration

    def test_thunderbird_autoconfig(self):
        status, headers, body = request(
            "GET", "/mail/config-v1.1.xml?emailaddress=mox%40localhost", host="autoconfig.localhost", port=HTTPS, tls=True
        )
        self.assertEqual(status, 200, body)
        self.assertIn("xml", headers["content-type"])
        root = ET.fromstring(body)
        # Thunderbird's format: clientConfig version 1.1 with one emailProvider holding the
        # domain, incomingServer and outgoingServer elements.
        self.assertEqual(root.tag, "clientConfig")
        self.assertEqual(root.get("version"), "1.1")
        provider = root.find("emailProvider")
        self.assertIsNotNone(provider)
        self.assertEqual(provider.get("id"), "localhost")
        self.assertEqual([d.text for d in provider.findall("domain")], ["localhost"])
        for child in ("displayName", "displayShortName"):
            self.assertTrue(provider.findtext(child))
        incoming = provider.find("incomingServer")
        outgoing = provider.find("outgoingServer")
        self.assertEqual(incoming.get("type"), "imap")
        self.assertEqual(outgoing.get("type"), "smtp")
        for server in (incoming, outgoing):
            self.assertEqual(server.findtext("hostname"), "localhost")
            self.assertIn(server.findtext("socketType"), ("SSL", "STARTTLS", "plain"))
            self.assertTrue(server.findtext("port").isdigit())
            self.assertEqual(server.findtext("username"), "mox@localhost")
            self.assertTrue(server.findall("authentication"))
        self.assertEqual((incoming.findtext("port"), incoming.findtext("socketType")), ("1993", "SSL"))
        self.assertEqual((outgoing.findtext("port"), outgoing.findtext("socketType")), ("1465", "SSL"))
        # Without an address Thunderbird still gets the document, with the %EMAILADDRESS% placeholder.
        status, _, body = request("GET", "/mail/config-v1.1.xml", host="localhost", port=HTTPS, tls=True)
        self.assertEqual(status, 200)
        self.assertIn(b"%EMAILADDRESS%", body)
        # Not for unknown domains or IP addresses.
        status, _, _ = request("GET", "/mail/config-v1.1.xml", host="autoconfig.unknown.example", port=HTTPS, tls=True)
        self.assertEqual(status, 404)
        status, _, _ = request("GET", "/mail/config-v1.1.xml", host="127.0.0.1", port=HTTPS, tls=True)
        self.assertEqual(status, 404)

    def test_autodiscover(self):
        req = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
            "<Request><EMailAddress>mox@localhost</EMailAddress>"
            "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
            "</AcceptableResponseSchema></Request></Autodiscover>"
        )
        status, headers, body = request(
            "POST", "/autodiscover/autodiscover.xml", host="autodiscover.localhost", port=HTTPS, tls=True,
            body=req.encode(), headers={"Content-Type": "text/xml"},
        )
        # autodiscover.<domain> is not one of autoconfig's names; the domain itself is.
        self.assertEqual(status, 404)
        status, headers, body = request(
            "POST", "/autodiscover/autodiscover.xml", host="localhost", port=HTTPS, tls=True,
            body=req.encode(), headers={"Content-Type": "text/xml"},
        )
        self.assertEqual(status, 200, body)
        root = ET.fromstring(body)
        ns = {
            "a": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
            "o": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a",
        }
        protocols = root.findall("o:Response/o:Account/o:Protocol", ns)
        by_type = {p.findtext("o:Type", namespaces=ns): p for p in protocols}
        self.assertEqual(set(by_type), {"IMAP", "SMTP"})
        self.assertEqual(by_type["IMAP"].findtext("o:Server", namespaces=ns), "localhost")
        self.assertEqual(by_type["IMAP"].findtext("o:Port", namespaces=ns), "1993")
        self.assertEqual(by_type["SMTP"].findtext("o:Port", namespaces=ns), "1465")
        status, _, _ = request("GET", "/autodiscover/autodiscover.xml", host="localhost", port=HTTPS, tls=True)
        self.assertEqual(status, 405)

    def test_apple_profile(self):
        status, headers, body = request(
            "GET", "/profile.mobileconfig?addresses=mox%40localhost&name=Mox", host="localhost", port=HTTPS, tls=True
        )
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "application/x-apple-aspen-config")
        import plistlib

        plist = plistlib.loads(body)
        self.assertEqual(plist["PayloadType"], "Configuration")
        mail = plist["PayloadContent"][0]
        self.assertEqual(mail["PayloadType"], "com.apple.mail.managed")
        self.assertEqual(mail["IncomingMailServerHostName"], "localhost")
        self.assertEqual(mail["IncomingMailServerPortNumber"], 1993)
        self.assertEqual(mail["EmailAddress"], "mox@localhost")

    def test_clientconfig_command(self):
        out = subprocess.run(
            [MOX, "-config", os.path.join(self.server.dir, "mox.conf"), "clientconfig", "localhost"],
            capture_output=True, text=True, check=True,
        ).stdout
        rows = [[line[:20].strip(), *line[21:].split(None, 3)] for line in out.splitlines()[1:5]]
        self.assertIn("Protocol", out.splitlines()[0])
        self.assertIn(["IMAP", "localhost", "1993", "local", "with TLS"], rows)
        self.assertIn(["IMAP", "localhost", "1143", "local", "STARTTLS optional"], rows)
        self.assertIn(["Submission (SMTP)", "localhost", "1465", "local", "with TLS"], rows)
        done = subprocess.run(
            [MOX, "-config", os.path.join(self.server.dir, "mox.conf"), "clientconfig", "unknown.example"],
            capture_output=True, text=True,
        )
        self.assertEqual(done.returncode, 1)
        self.assertIn("unknown domain", done.stderr)

    # MTA-STS

    def test_mtasts_policy(self):
        status, headers, body = request("GET", "/.well-known/mta-sts.txt", host="mta-sts.localhost", port=HTTPS, tls=True)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        # RFC 8461 3.2
        self.assertEqual(body, b"version: STSv1\nmode: enforce\nmax_age: 86400\nmx: localhost\nmx: *.mx.localhost\n")
        status, _, _ = request("GET", "/.well-known/mta-sts.txt", host="localhost", port=HTTPS, tls=True)
        self.assertEqual(status, 404)
        status, _, _ = request("GET", "/.well-known/mta-sts.txt", host="mta-sts.unknown.example", port=HTTPS, tls=True)
        self.assertEqual(status, 404)

    # WebStatic, with curl

    def test_static_file_with_ranges_and_conditional_requests(self):
        url = f"http://{HOST}:{HTTP}/static/file.bin"
        host = ["-H", "Host: localhost"]
        self.assertEqual(curl(*host, url), STATIC_FILE)
        head = curl(*host, "-D", "-", "-o", "/dev/null", url).decode()
        self.assertIn("HTTP/1.1 200", head)
        self.assertIn("x-static: yes", head.lower())
        self.assertIn("accept-ranges: bytes", head.lower())
        modified = next(l.split(":", 1)[1].strip() for l in head.splitlines() if l.lower().startswith("last-modified:"))
        # RFC 9110 14: one range, a suffix range, a range past the end.
        self.assertEqual(curl(*host, "-r", "100-199", url), STATIC_FILE[100:200])
        self.assertEqual(curl(*host, "-H", "Range: bytes=-10", url), STATIC_FILE[-10:])
        out = curl(*host, "-r", "5000-6000", "-o", "/dev/null", "-w", "%{http_code}", url)
        self.assertEqual(out, b"416")
        out = curl(*host, "-r", "0-9", "-D", "-", "-o", "/dev/null", url).decode().lower()
        self.assertIn("206", out.splitlines()[0])
        self.assertIn("content-range: bytes 0-9/4096", out)
        # Two ranges: multipart/byteranges.
        status, headers, body = request("GET", "/static/file.bin", headers={"Range": "bytes=0-1,10-11"})
        self.assertEqual(status, 206)
        self.assertTrue(headers["content-type"].startswith("multipart/byteranges; boundary="))
        self.assertIn(b"Content-Range: bytes 10-11/4096", body)
        # RFC 9110 13.1.3: not modified since.
        out = curl(*host, "-H", f"If-Modified-Since: {modified}", "-o", "/dev/null", "-w", "%{http_code}", url)
        self.assertEqual(out, b"304")
        out = curl(*host, "-H", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT", "-o", "/dev/null", "-w", "%{http_code}", url)
        self.assertEqual(out, b"200")
        out = curl(*host, "-z", modified, "-o", "/dev/null", "-w", "%{http_code}", url)
        self.assertEqual(out, b"304")
        # HEAD: headers only.
        status, headers, body = request("HEAD", "/static/file.bin")
        self.assertEqual((status, headers["content-length"], body), (200, "4096", b""))
        status, _, _ = request("POST", "/static/file.bin", body=b"x")
        self.assertEqual(status, 405)

    def test_directory_listing_index_and_redirect(self):
        host = ["-H", "Host: localhost"]
        listing = curl(*host, f"http://{HOST}:{HTTP}/static/").decode()
        for name in ("file.bin", "index.txt", "big.bin", "sub%20dir/"):
            self.assertIn(name, listing)
        # A directory without its trailing slash is redirected to it.
        out = curl(*host, "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", f"http://{HOST}:{HTTP}/static/sub%20dir").decode()
        self.assertTrue(out.startswith("307 "), out)
        self.assertTrue(out.endswith("/static/sub%20dir/"), out)
        index = curl(*host, f"http://{HOST}:{HTTP}/static/sub%20dir/").decode()
        self.assertIn("index of sub dir", index)

    def test_path_traversal_is_refused(self):
        host = ["-H", "Host: localhost"]
        for path in ("/static/../mox.conf", "/static/%2e%2e/mox.conf", "/static/..%2fmox.conf", "/static/%2e%2e%2f%2e%2e/etc/passwd"):
            out = subprocess.run(
                ["curl", "-sS", "--path-as-is", *host, "-o", "-", "-w", "\n%{http_code}", f"http://{HOST}:{HTTP}{path}"],
                capture_output=True, check=True,
            ).stdout
            body, _, code = out.rpartition(b"\n")
            self.assertNotIn(b"Listeners:", body, path)
            self.assertNotIn(b"root:", body, path)
            self.assertIn(code, (b"404", b"400", b"403"), path)

    def test_plain_http_is_redirected_to_https_unless_configured(self):
        status, headers, _ = request("GET", "/secure/file.bin")
        self.assertEqual(status, 308)
        self.assertEqual(headers["location"], "https://localhost/secure/file.bin")
        status, _, body = request("GET", "/secure/file.bin", port=HTTPS, tls=True)
        self.assertEqual((status, body), (200, STATIC_FILE))

    def test_web_redirect(self):
        status, headers, _ = request("GET", "/old/file.bin?x=1")
        self.assertEqual(status, 307)
        self.assertEqual(headers["location"], "/static/file.bin?x=1")

    def test_services_not_built_yet_answer_404(self):
        for path in ("/account/", "/admin/", "/webmail/", "/webapi/v0/Send"):
            status, _, body = request("GET", path)
            self.assertEqual(status, 404, path)
            self.assertEqual(body, b"404 page not found\n", path)

    # WebForward, against Python's http.server

    def test_forward_to_a_real_upstream(self):
        status, headers, body = request("GET", "/app/x/y?q=1", headers={"X-Forwarded-For": "10.9.9.9", "Connection": "keep-alive"})
        self.assertEqual(status, 201, body)
        self.assertEqual(headers["x-upstream"], "python")
        self.assertEqual(headers["x-proxy"], "mox")
        seen = json.loads(body)
        self.assertEqual(seen["method"], "GET")
        # StripPath: the part PathRegexp matched is removed, the rest appended to the URL's path.
        self.assertEqual(seen["path"], "/base/x/y?q=1")
        h = seen["headers"]
        # A client's own X-Forwarded-For is not passed on: the proxy sets it.
        self.assertEqual(h["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(h["x-forwarded-host"], "localhost")
        self.assertEqual(h["x-forwarded-proto"], "http")
        self.assertEqual(h["host"], "localhost")
        payload = os.urandom(300_000).hex().encode()
        status, _, body = request("POST", "/app/upload", body=payload, headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 201)
        seen = json.loads(body)
        self.assertEqual((seen["method"], seen["path"]), ("POST", "/base/upload"))
        self.assertEqual(seen["body"].encode("latin-1"), payload)
        status, _, body = request("GET", "/app/over-tls", port=HTTPS, tls=True)
        self.assertEqual(json.loads(body)["headers"]["x-forwarded-proto"], "https")

    def test_forward_to_a_dead_upstream_is_502(self):
        status, _, _ = request("GET", "/dead/x")
        self.assertEqual(status, 502)

    # Memory under abuse

    def test_flooding_and_slow_clients_cost_bounded_memory(self):
        server = self.server
        before = server.rss_kb()
        stop = threading.Event()

        def flood():
            # A 1 GB request body that the server does not want (405), sent without reading.
            s = socket.create_connection((HOST, HTTP))
            s.settimeout(5)
            try:
                s.sendall(b"POST /static/file.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1073741824\r\n\r\n")
                chunk = b"x" * 65536
                sent = 0
                while sent < 1 << 30 and not stop.is_set():
                    s.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            finally:
                s.close()

        def pipeline():
            # Requests for a 256 MB file, pipelined, and the responses never read.
            s = socket.create_connection((HOST, HTTP))
            s.settimeout(5)
            try:
                for _ in range(64):
                    s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
                stop.wait(8)
            except OSError:
                pass
            finally:
                s.close()

        slow = socket.create_connection((HOST, HTTP))
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        threads = [threading.Thread(target=flood), threading.Thread(target=pipeline)]
        with PeakRSS(server) as peak:
            for t in threads:
                t.start()
            try:
                deadline = time.monotonic() + 6
                served = 0
                while time.monotonic() < deadline:
                    slow.recv(1)
                    status, _, body = request("GET", "/static/file.bin")
                    self.assertEqual((status, body), (200, STATIC_FILE))
                    served += 1
                    time.sleep(0.2)
                self.assertGreater(served, 5)
            finally:
                stop.set()
                for t in threads:
                    t.join()
                slow.close()
        grown_mb = (peak.peak_kb - before) / 1024
        self.assertLess(grown_mb, 64, f"RSS grew {grown_mb:.1f} MB while flooded")
        status, _, _ = request("GET", "/static/file.bin")
        self.assertEqual(status, 200)

    def test_access_log_lines(self):
        request("GET", "/static/index.txt", headers={"User-Agent": "interop-test"})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = [l for l in self.server.output().splitlines() if 'm="http request"' in l and "interop-test" in l]
            if lines:
                break
            time.sleep(0.1)
        self.assertTrue(lines, self.server.output()[-3000:])
        line = lines[-1]
        for field in ("pkg=http", "httpaccess=", "handler=static", "method=get", "url=/static/index.txt", "statuscode=200", "remoteaddr=127.0.0.1"):
            self.assertIn(field, line)


class HTTPShutdownTest(unittest.TestCase):
    """SIGTERM with an idle keep-alive connection and a download in progress: mox exits 0 and
    closes both."""

    def test_sigterm_closes_http_connections_and_exits_0(self):
        def prepare(d):
            with open(os.path.join(d, "big.bin"), "wb") as f:
                f.truncate(BIG_SIZE)

        server = Localserve(ports=("smtp",), prepare=prepare)
        self.addCleanup(server.cleanup)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((HOST, HTTP), timeout=2).close()
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline, server.output())
                time.sleep(0.2)
        idle = socket.create_connection((HOST, HTTP), timeout=30)
        self.addCleanup(idle.close)
        idle.sendall(b"GET /workdir/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        first = idle.recv(65536)
        self.assertTrue(first.startswith(b"HTTP/1.1 200"), first[:200])
        download = socket.create_connection((HOST, HTTP), timeout=30)
        self.addCleanup(download.close)
        download.sendall(b"GET /workdir/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        self.assertTrue(download.recv(1024).startswith(b"HTTP/1.1 200"))
        started = time.monotonic()
        code, output = server.stop()
        self.assertEqual(code, 0, output[-3000:])
        self.assertLess(time.monotonic() - started, 20)
        # Both connections end: read what is left until EOF.
        for conn in (idle, download):
            conn.settimeout(10)
            while True:
                try:
                    data = conn.recv(1 << 20)
                except ConnectionResetError:
                    break
                if not data:
                    break


if __name__ == "__main__":
    unittest.main()
