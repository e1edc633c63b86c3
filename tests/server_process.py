"""Start `wefirst serve` as a real process on a free port (or a given one, to restart it where it
was) and wait until /healthz answers; for tests that kill the server or run parties beside it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from wefirst.witness.process import free_port

from waiting import PATIENCE, wait_for_http


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    url: str
    port: int
    env: dict[str, str]

    def kill(self) -> None:
        """SIGKILL (nothing is flushed, no shutdown hook runs), then reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(PATIENCE)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(PATIENCE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(PATIENCE)


def start_server(
    env: dict[str, str], *, port: int | None = None, log: Path | None = None, timeout: float = PATIENCE
) -> ServerProcess:
    """``env``: the WEFIRST_* settings of this server (database, data dir, witnesses…);
    ``log``: a file its stderr is appended to (read it when a test fails)."""
    port = port or free_port()
    full = {**os.environ, **env}
    with open(log or os.devnull, "ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wefirst.cli", "serve", "--port", str(port)],
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(url + "/healthz", proc=proc, timeout=timeout)
    return ServerProcess(proc, url, port, env)
