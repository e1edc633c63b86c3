"""Two witnesses as separate processes beside a real `wefirst serve` process, sharing the test
database: the deployment the end-to-end witnessing tests (tests/witness, the Chromium verifier)
run against. Entries are queued straight into the database (the queue the ledger writes to);
sequencing, submission and serving are the server's own background work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from sqlalchemy import func, select
from typer.testing import CliRunner

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_cosignatures, tlog_entries
from wefirst.tlog import verify_cli
from wefirst.tlog.checkpoint import SignedCheckpoint, parse_signed_checkpoint
from wefirst.tlog.cosignature import CosignatureVerifier, parse_cosigner_key
from wefirst.tlog.keys import load_key
from wefirst.tlog.note import parse_note
from wefirst.tlog.policy import simple_policy
from wefirst.tlog.queue import enqueue
from wefirst.tlog.service import LogService, key_path_for
from wefirst.witness.process import WitnessProcess, free_port, start_witness

from server_process import ServerProcess, start_server
from waiting import PATIENCE, wait_until

runner = CliRunner()

NAMES = ("charity.example/witness", "watchdog.example/witness")


def wait_for(what: str, check: Callable[[], object], timeout: float = PATIENCE) -> object:
    """``wait_until`` for checks that read a process that may be restarting (an HTTP error
    counts as "not yet")."""

    def answered() -> object:
        try:
            return check()
        except httpx.HTTPError:
            return None

    return wait_until(answered, timeout=timeout, what=what)


class KillSwitchProxy:
    """Passes the server's requests to one witness and the answers back. Armed, it kills the
    server with SIGKILL once the witness has answered 200, before the answer reaches the
    server: the witness has cosigned and stored a size the server never learns of."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.armed = threading.Event()
        self.fired = threading.Event()
        self.victim: Callable[[], None] = lambda: None
        self.statuses: list[int] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    r = httpx.post(proxy.target + self.path, content=body, timeout=30)
                except httpx.HTTPError:
                    self.close_connection = True
                    return  # the witness is down: so is the connection
                proxy.statuses.append(r.status_code)
                if r.status_code == 200 and proxy.armed.is_set():
                    proxy.armed.clear()
                    proxy.victim()
                    proxy.fired.set()
                    self.close_connection = True
                    return
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers["content-type"])
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Deployment:
    """A server process and two witness processes that follow its log, each restartable on its
    own port (the server's WEFIRST_TLOG_WITNESSES names those URLs, or with ``proxied`` the
    URLs of a KillSwitchProxy in front of each)."""

    def __init__(
        self,
        tmp: Path,
        settings: Settings,
        db: Database,
        database_url: str,
        *,
        proxied: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.tmp = tmp
        self.db = db
        service = LogService(settings, db)  # creates the log's key in the data dir
        self.origin = service.origin
        self.log_key = service.signer.verifier.key_string
        self.signer = load_key(key_path_for(settings))
        self.witnesses: dict[str, WitnessProcess] = {}
        self.verifiers: dict[str, CosignatureVerifier] = {}
        self.proxies: dict[str, KillSwitchProxy] = {}
        for name in NAMES:
            w = self.start_witness(name, free_port())
            if proxied:
                self.proxies[name] = KillSwitchProxy(w.url)
        urls = {n: (self.proxies[n].url if n in self.proxies else w.url) for n, w in self.witnesses.items()}
        configured = "\n".join(f"{w.key} {urls[n]}" for n, w in self.witnesses.items())
        self.env = {
            "WEFIRST_DATABASE_URL": database_url,
            "WEFIRST_DATA_DIR": str(settings.data_dir),
            "WEFIRST_BASE_URL": settings.base_url,
            "WEFIRST_TLOG_WITNESSES": configured,
            "WEFIRST_TLOG_WITNESS_MAX_BACKOFF_SECONDS": "1",
            "WEFIRST_TLOG_BATCH_WAIT_MS": "50",
            "WEFIRST_WEBHOOKS_WORKER": "false",
            **(env or {}),
        }
        self.server: ServerProcess = start_server(self.env, log=tmp / "server.log")
        self.queued = 0
        self.log_number = 1

    def start_witness(self, name: str, port: int, also_follow: tuple[str, ...] = ()) -> WitnessProcess:
        """Start (or restart, keeping its folder) a witness; ``also_follow``: more log keys, as
        its operator adds with `wefirst witness follow` (say after a key rotation)."""
        directory = self.tmp / name.split(".")[0]
        follow = [self.log_key, *also_follow]
        w = start_witness(directory, name=name, follow=follow, port=port, timeout=PATIENCE)
        self.witnesses[name] = w
        self.verifiers[name] = parse_cosigner_key(w.key)
        return w

    def restart_witness(self, name: str) -> WitnessProcess:
        old = self.witnesses[name]
        old.kill()
        return self.start_witness(name, old.port)

    def restart_server(self) -> None:
        self.server.kill()
        self.server = start_server(self.env, port=self.server.port, log=self.tmp / "server.log")

    def close(self) -> None:
        self.server.kill()
        for w in self.witnesses.values():
            w.kill()
        for p in self.proxies.values():
            p.close()

    @property
    def log_url(self) -> str:
        """The current log: /log, or /log/<n> after key rotations (``log_number``)."""
        return f"{self.server.url}/log" + (f"/{self.log_number}" if self.log_number > 1 else "")

    def grow(self, count: int) -> int:
        """Queue ``count`` entries; returns the log size once they are all integrated."""
        with self.db.write() as conn:
            for _ in range(count):
                enqueue(conn, {"v": 1, "kind": "note", "campaign": "cmp_w", "n": self.queued})
                self.queued += 1
        return self.queued

    def served(self) -> tuple[SignedCheckpoint, set[str]]:
        """The served checkpoint and the names of the witnesses whose valid lines it carries."""
        text = httpx.get(f"{self.log_url}/checkpoint", timeout=5).text
        signed = parse_signed_checkpoint(text)
        note = parse_note(text)
        names = set()
        for name, verifier in self.verifiers.items():
            for sig in note.signatures:
                if verifier.matches(sig):
                    verifier.verify(note.text, sig)  # raises if a line does not verify
                    names.add(name)
        return signed, names

    def wait_cosigned(self, size: int, names: tuple[str, ...] = NAMES) -> SignedCheckpoint:
        """Wait until the served checkpoint is of ``size`` and carries these witnesses' lines."""

        def check() -> SignedCheckpoint | None:
            signed, present = self.served()
            return signed if signed.checkpoint.size == size and set(names) <= present else None

        found = wait_for(f"size {size} cosigned by {', '.join(names)}", check)
        assert isinstance(found, SignedCheckpoint)
        return found

    def wait_all_cosigned(self, names: tuple[str, ...] = NAMES) -> SignedCheckpoint:
        """Wait until every entry queued so far (by the test or the ledger) is in the served
        checkpoint and that checkpoint carries these witnesses' lines."""
        with self.db.read() as conn:
            size = conn.execute(select(func.count()).select_from(tlog_entries)).scalar_one()
        return self.wait_cosigned(int(size), names)

    def witness_size(self, name: str) -> int:
        return int(httpx.get(self.witnesses[name].url + "/", timeout=5).json()["logs"][0]["size"])

    def policy(self, k: int) -> str:
        return simple_policy(self.log_key, [self.witnesses[n].key for n in NAMES], k)

    def stored_cosignatures(self) -> dict[str, list[tuple[int, int]]]:
        """(size, timestamp) of every cosignature the server kept, per witness name."""
        by_key = {w.key: name for name, w in self.witnesses.items()}
        out: dict[str, list[tuple[int, int]]] = {n: [] for n in NAMES}
        with self.db.read() as conn:
            rows = conn.execute(
                select(tlog_cosignatures.c.witness, tlog_cosignatures.c.size, tlog_cosignatures.c.timestamp)
            ).all()
        for r in rows:
            out[by_key[r.witness]].append((int(r.size), int(r.timestamp)))
        return out


def verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(verify_cli.app, list(args))
    return result.exit_code, result.output
