"""Start `python -m wefirst.witness serve` as a real process on a free port and wait until it
answers; shared by the witness tests and the log-side end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WitnessProcess:
    proc: subprocess.Popen[bytes]
    url: str
    key: str
    directory: Path
    port: int

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(20)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def start_witness(
    directory: Path, *, name: str, follow: list[str], port: int | None = None, timeout: float = 60
) -> WitnessProcess:
    port = port or free_port()
    # The documented command (docs/witness-operators.md); `python -m wefirst.witness` is the same.
    script = Path(sys.executable).parent / "wefirst-witness"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "wefirst.witness"]
    args = [*command, "serve", "--dir", str(directory), "--port", str(port)]
    args += ["--name", name]
    for key in follow:
        args += ["--follow", key]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.get(url + "/", timeout=2)
            if r.status_code == 200:
                return WitnessProcess(proc, url, str(r.json()["key"]), directory, port)
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"the witness exited with {proc.returncode} before it was ready")
        assert time.monotonic() < deadline, "the witness did not start"
        time.sleep(0.05)
