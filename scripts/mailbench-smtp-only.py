#!/usr/bin/env python3
"""Runs ../shared/bench/mailbench.py's SMTP phase against `mox localserve` while this server
has no IMAP yet.

mailbench polls `STATUS INBOX (MESSAGES)` over IMAP to time end-to-end delivery. Until the
IMAP server exists (issue #6), this wrapper gives mailbench an IMAP connection object that
answers STATUS with the Inbox's message count read from the account's database (committed
rows: what IMAP will show) and ignores the clean-up commands. Everything else is mailbench's
own code, unchanged: the same submission client, timing and output.

usage: mailbench-smtp-only.py --data DIR [mailbench options...]
"""
import importlib.util
import os
import sqlite3
import sys


def main():
    args = sys.argv[1:]
    if "--data" not in args:
        sys.exit("usage: mailbench-smtp-only.py --data LOCALSERVE_DIR [mailbench options]")
    i = args.index("--data")
    data = args[i + 1]
    del args[i:i + 2]
    db = os.path.join(data, "accounts", "mox", "index.db")
    bench = os.environ.get("MAILBENCH", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench", "mailbench.py"))
    spec = importlib.util.spec_from_file_location("mailbench", bench)
    mb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mb)

    class StoreStatus:
        """The part of mailbench's IMAPConn that its SMTP phase uses."""

        def __init__(self, a):
            self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)

        def cmd(self, line):
            if line.upper().startswith("STATUS"):
                n = self.conn.execute(
                    "SELECT COUNT(*) FROM message m JOIN mailbox b ON b.id = m.mailboxID "
                    "WHERE b.name = 'Inbox' AND NOT m.expunged").fetchone()[0]
                return "OK", [f"* STATUS INBOX (MESSAGES {n})".encode()]
            return "OK", []

        def close(self):
            self.conn.close()

    mb.IMAPConn = StoreStatus
    sys.argv = [bench, "--skip-imap", *args]
    mb.main()


if __name__ == "__main__":
    main()
