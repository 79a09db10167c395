"""Shared set-up for interop tests that run `mox serve` with a configuration of their own: the
configuration directory (with localserve's localhost certificate), starting and stopping the
server, running mox commands against it, and reading an account's mailbox back."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from test_serve import MOX


def mox_conf(ip="127.0.0.1", smtp_port=None, submission_port=None, hostname="mail.example.org", log_level="debug",
             extra=""):
    """A mox.conf with one listener on `ip` (localhost.crt for TLS): SMTP (port 25 unless
    given) and Submission, the postmaster in account mjl, and `extra` at the end."""
    smtp = f"\n\t\t\tPort: {smtp_port}" if smtp_port else ""
    return f"""DataDir: data
LogLevel: {log_level}
User: {os.getuid()}
Hostname: {hostname}
Listeners:
	public:
		IPs:
			- {ip}
		TLS:
			KeyCerts:
				-
					CertFile: localhost.crt
					KeyFile: localhost.key
		SMTP:
			Enabled: true{smtp}
		Submission:
			Enabled: true
			Port: {submission_port}
Postmaster:
	Account: mjl
	Mailbox: Postmaster
""" + extra


def write_config(directory, mox_conf, domains_conf, name="config", files=None):
    """A configuration directory under `directory` with mox.conf, domains.conf, localhost.crt and
    .key, and `files` ({name: bytes}); returns its path."""
    config = os.path.join(directory, name)
    os.makedirs(config)
    init = os.path.join(directory, "init")
    if not os.path.exists(init):
        subprocess.run([MOX, "localserve", "-dir", init, "-initonly"], check=True, capture_output=True)
    for f in ("localhost.crt", "localhost.key"):
        shutil.copy(os.path.join(init, f), config)
    with open(os.path.join(config, "mox.conf"), "w") as f:
        f.write(mox_conf)
    with open(os.path.join(config, "domains.conf"), "w") as f:
        f.write(domains_conf)
    for fname, data in (files or {}).items():
        with open(os.path.join(config, fname), "wb") as f:
            f.write(data)
    return config


def mox(config, *args, stdin=None, env=None):
    """Runs a mox command against the configuration; its output, or AssertionError."""
    p = subprocess.run([MOX, "-config", os.path.join(config, "mox.conf"), *args],
                       input=stdin, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise AssertionError(f"mox {' '.join(args)}: {p.stdout}{p.stderr}")
    return p.stdout


class Server:
    """`mox serve` for a configuration, started and waited for (a TCP port answering)."""

    def __init__(self, config, log_path, ip, port, env=None):
        self.config, self.ip, self.port, self.env = config, ip, port, env
        self.log = open(log_path, "a")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([MOX, "-config", os.path.join(self.config, "mox.conf"), "serve"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection((self.ip, self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("mox serve did not start: " + self.log_text())
                time.sleep(0.1)

    def log_text(self, tail=3000):
        with open(self.log.name) as f:
            return f.read()[-tail:]

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def stored(self, workdir, account="mjl", mailbox="Inbox"):
        """The messages of an account's mailbox, as exported Maildir files (LF endings); [] when
        the mailbox does not exist yet."""
        out = tempfile.mkdtemp(prefix="export-", dir=workdir)
        try:
            mox(self.config, "export", "maildir", "-single", out,
                os.path.join(self.config, "data", "accounts", account), mailbox, env=self.env)
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
