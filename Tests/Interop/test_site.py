"""Interop tests of the built site and of `sitegen serve`, driven as a user would.

Run by `make test` after the Swift tests: python3 -m unittest discover -s Tests/Interop -v
Needs the debug binaries (swift build) and uses only loopback.
"""

import html
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def bin_path():
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


BIN = bin_path()
SITEGEN = os.path.join(BIN, "sitegen")
MOX = os.path.join(BIN, "mox")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


class BuiltSiteTest(unittest.TestCase):
    """Builds the real site into a temporary directory and checks what a reader sees."""

    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="site-test-")
        # The default: the command tree sitegen is linked with (MoxCommands), no mox process.
        subprocess.run([SITEGEN, "build", "--root", ROOT, "--out", cls.out,
                        "--commit-date", "2026-01-01", "--commit-hash", "test"], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def page(self, d):
        with open(os.path.join(self.out, d, "index.html"), encoding="utf-8") as f:
            return f.read()

    def test_nine_pages(self):
        for d in ["", "features", "screenshots", "install", "faq", "config", "commands", "protocols", "b"]:
            self.assertIn("<!doctype html>", self.page(d), d)

    def test_links_resolve(self):
        r = subprocess.run([SITEGEN, "check", self.out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_config_reference_matches_the_binary(self):
        page = self.page("config")
        for name, cmd in [("mox-conf", "describe-static"), ("domains-conf", "describe-domains")]:
            text = subprocess.run([MOX, "config", cmd], capture_output=True, text=True, check=True).stdout
            for line in text.splitlines():
                # The page escapes &, <, > and " (not ').
                escaped = html.escape(line, quote=False).replace('"', "&quot;")
                if line.strip() and escaped not in page:
                    self.fail(f"config line missing from the page: {line!r}")
            first_key = next(l for l in text.splitlines() if l and not l.startswith("#"))
            key = first_key.split(":")[0]
            self.assertIn(f'id="cfg-{name}-{key}"', page)

    def test_command_reference_matches_the_binary(self):
        page = self.page("commands")
        tree = json.loads(subprocess.run([MOX, "--experimental-dump-help"], capture_output=True, check=True).stdout)

        def walk(node, prefix):
            name = (prefix + " " + node["commandName"]).strip()
            subs = [s for s in node.get("subcommands", []) if s.get("shouldDisplay", True)]
            if not subs and prefix:
                yield name, node
            for s in subs:
                yield from walk(s, name)

        commands = list(walk(tree["command"], ""))
        self.assertTrue(any(n == "mox config test" for n, _ in commands))
        for name, node in commands:
            anchor = "hdr-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            self.assertIn(f'id="{anchor}"', page, name)

    def test_in_process_command_tree_equals_the_binarys(self):
        # The same page built from `mox --experimental-dump-help`: identical, so the reference
        # cannot drift from the binary.
        out = tempfile.mkdtemp(prefix="site-test-mox-")
        try:
            subprocess.run([SITEGEN, "build", "--root", ROOT, "--mox", MOX, "--out", out,
                            "--commit-date", "2026-01-01", "--commit-hash", "test"], check=True)
            with open(os.path.join(out, "commands", "index.html"), encoding="utf-8") as f:
                self.assertEqual(f.read(), self.page("commands"))
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def test_footer_names_heads_commit_as_git_does(self):
        # Without --commit-*, sitegen reads HEAD from .git itself (git only as a fallback):
        # the footer must say what `git log` says of this clone.
        want = subprocess.run(["git", "-C", ROOT, "log", "-1", "--date=short", "--format=%cd, commit %h"],
                              capture_output=True, text=True, check=True).stdout.strip()
        out = tempfile.mkdtemp(prefix="site-test-git-")
        try:
            subprocess.run([SITEGEN, "build", "--root", ROOT, "--out", out], check=True)
            with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
                self.assertIn(want, f.read())
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def test_protocols_table(self):
        page = self.page("protocols")
        self.assertIn('id="topic-smtp"', page)
        self.assertIn('class="status roadmap"', page)

    def test_features_has_roadmap_and_localserve(self):
        page = self.page("features")
        self.assertIn('id="hdr-localserve"', page)
        self.assertIn('id="hdr-roadmap"', page)


class ServeTest(unittest.TestCase):
    """Runs `sitegen serve` over a copy of the sources and edits them."""

    def setUp(self):
        self.src = tempfile.mkdtemp(prefix="serve-src-")
        shutil.copytree(os.path.join(ROOT, "website"), os.path.join(self.src, "website"),
                        ignore=shutil.ignore_patterns("html", ".html-*"))
        shutil.copytree(os.path.join(ROOT, "rfc"), os.path.join(self.src, "rfc"))
        shutil.copy(os.path.join(ROOT, "README.md"), self.src)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [SITEGEN, "serve", "--root", self.src, "--port", str(self.port), "--interval", "100",
             "--commit-date", "2026-01-01", "--commit-hash", "test"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                get(self.base + "/", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline or self.proc.poll() is not None:
                    self.fail("sitegen serve did not start: " + self.proc.stdout.read().decode())
                time.sleep(0.1)

    def tearDown(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.src, ignore_errors=True)

    def generation(self, known=""):
        return get(f"{self.base}/_sitegen/wait?generation={known}", timeout=30)[1]

    def edit(self, path, change):
        p = os.path.join(self.src, path)
        with open(p, encoding="utf-8") as f:
            text = f.read()
        with open(p, "w", encoding="utf-8") as f:
            f.write(change(text))

    def test_reloads_after_markdown_change_and_shows_errors(self):
        status, body = get(self.base + "/features/")
        self.assertEqual(status, 200)
        self.assertIn("/_sitegen/wait", body)  # the live-reload script
        gen = self.generation()

        self.edit("website/features/index.md", lambda t: t + "\n\nLive reload marker 4711.\n")
        start = time.time()
        gen2 = self.generation(gen)  # returns when the rebuild is done
        self.assertNotEqual(gen, gen2)
        self.assertLess(time.time() - start, 10)
        self.assertIn("Live reload marker 4711.", get(self.base + "/features/")[1])

        # A broken source shows the build error in the page instead of a stale site.
        self.edit("rfc/index.txt", lambda t: t + "\n1234\tMaybe\t-\tBroken row\n")
        gen3 = self.generation(gen2)
        self.assertNotEqual(gen2, gen3)
        body = get(self.base + "/features/")[1]
        self.assertIn("failed to build", body)
        self.assertIn("unknown status", body)
        self.assertIn("/_sitegen/wait", body)

        self.edit("rfc/index.txt", lambda t: t.replace("1234\tMaybe\t-\tBroken row\n", ""))
        self.generation(gen3)
        self.assertIn("Live reload marker 4711.", get(self.base + "/features/")[1])

    def test_directory_without_slash_redirects(self):
        req = urllib.request.Request(self.base + "/features")
        status, body = get(req.full_url)  # urllib follows the redirect
        self.assertEqual(status, 200)
        self.assertIn('id="hdr-features"', body)

    def test_not_found(self):
        with self.assertRaises(urllib.error.HTTPError) as e:
            get(self.base + "/no-such-page/")
        self.assertEqual(e.exception.code, 404)


if __name__ == "__main__":
    unittest.main()
