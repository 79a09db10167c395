"""nsd (Debian's authoritative DNS server) for the interop tests: started on port 53 of a loopback
address of its own with the zones a test gives, and a resolv.conf for $MOXRESOLVCONF that points
mox at it. Port 53 needs root (CI runs as root); tests skip without root or nsd."""

import os
import shutil
import socket
import subprocess
import textwrap
import time

NSD_PATH = shutil.which("nsd") or "/usr/sbin/nsd"


def txt(value):
    """A TXT record's data for a zone file, in strings of at most 255 octets (RFC 1035 3.3.14)."""
    return "( " + " ".join(f'"{value[i:i + 255]}"' for i in range(0, len(value), 255)) + " )"


def available():
    return os.geteuid() == 0 and os.path.exists(NSD_PATH)


class NSD:
    def __init__(self, directory, ip, zones):
        """zones: {zone name: zone file text}; a text None makes a zone file nsd cannot load,
        for which it answers SERVFAIL."""
        self.dir = directory
        self.ip = ip
        entries = []
        for name, text in zones.items():
            path = os.path.join(directory, f"{name}.zone")
            with open(path, "w") as f:
                f.write(text if text is not None else "this is not a zone file\n")
            entries.append(f"zone:\n    name: {name}\n    zonefile: {name}.zone\n")
        conf = textwrap.dedent(f"""\
            server:
                ip-address: {ip}
                port: 53
                do-ip6: no
                server-count: 1
                username: ""
                chroot: ""
                zonesdir: "{directory}"
                database: ""
                zonelistfile: "{directory}/zone.list"
                xfrdfile: "{directory}/xfrd.state"
                xfrdir: "{directory}"
                pidfile: "{directory}/nsd.pid"
                logfile: "{directory}/nsd.log"
                verbosity: 1
            remote-control:
                control-enable: no
            """) + "".join(entries)
        self.conf = os.path.join(directory, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([NSD_PATH, "-d", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                log_path = os.path.join(directory, "nsd.log")
                log = open(log_path).read() if os.path.exists(log_path) else ""
                raise RuntimeError(f"nsd exited with {self.proc.returncode}: {log}")
            try:
                with socket.create_connection((ip, 53), timeout=0.5):
                    break
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError("nsd did not start")
                time.sleep(0.1)

    def resolv_conf(self, name, servers=None, options="timeout:1 attempts:1"):
        """A resolv.conf naming `servers` (default: this nsd), for $MOXRESOLVCONF."""
        path = os.path.join(self.dir, f"resolv-{name}.conf")
        with open(path, "w") as f:
            for s in servers or [self.ip]:
                f.write(f"nameserver {s}\n")
            f.write(f"options {options}\n")
        return path

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
