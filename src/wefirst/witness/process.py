"""Run `wefirst-witness serve` as a separate process and wait until it answers: how `wefirst
demo` runs its witness beside the server, and how the tests and the benchmark run theirs. A
witness in its own process is the point: it shares nothing with the log it judges but HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class WitnessProcess:
    proc: subprocess.Popen[bytes]
    url: str
    key: str  # the witness's verifier key line, as it answers on GET /
    directory: Path
    port: int

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM (uvicorn finishes what is in flight), SIGKILL if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait(20)

    def kill(self) -> None:
        """SIGKILL: nothing is flushed, no shutdown hook runs (the crash tests)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(20)


def command() -> list[str]:
    """The documented command (docs/witness-operators.md); `python -m wefirst.witness` is the same."""
    script = Path(sys.executable).parent / "wefirst-witness"
    return [str(script)] if script.exists() else [sys.executable, "-m", "wefirst.witness"]


def start_witness(
    directory: Path,
    *,
    name: str,
    follow: list[str],
    host: str = "127.0.0.1",
    port: int | None = None,
    stderr: IO[bytes] | int | None = subprocess.DEVNULL,
    timeout: float = 60,
    die_with_parent: bool = False,
) -> WitnessProcess:
    """Serve the witness kept in ``directory`` (made on first use, under ``name``), following
    the logs whose verifier keys are in ``follow``; returns once GET / answers.

    ``die_with_parent`` (Linux): the kernel sends the witness SIGTERM when the calling thread's
    process dies, even by SIGKILL, so a killed demo leaves no witness behind. Call it from a
    thread that lives as long as the witness should (the kernel watches that thread)."""
    port = port or free_port(host)
    args = [*command(), "serve", "--dir", str(directory), "--name", name, "--host", host, "--port", str(port)]
    for key in follow:
        args += ["--follow", key]
    # Our own console script with arguments as a list (no shell): nothing untrusted is run.
    preexec = _term_with_parent if die_with_parent and sys.platform == "linux" else None
    proc = subprocess.Popen(  # noqa: S603
        args, stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ}, preexec_fn=preexec
    )
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.get(url + "/", timeout=2)
            if r.status_code == 200:
                return WitnessProcess(proc, url, str(r.json()["key"]), directory, port)
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the witness exited with status {proc.returncode} before it answered")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait(20)
            raise RuntimeError(f"the witness did not answer on {url} within {timeout:.0f} s")
        time.sleep(0.05)


def _term_with_parent() -> None:
    """In the child, before exec: prctl(PR_SET_PDEATHSIG, SIGTERM). Best effort: where libc
    offers no prctl, the witness simply runs on until stopped."""
    import contextlib
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
