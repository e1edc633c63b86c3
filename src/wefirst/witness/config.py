"""The witness's configuration: one small TOML file next to its key and state.

    # wefirst witness
    name = "charity.example/witness"
    key_file = "witness.key"
    state_file = "witness.db"

    [[logs]]
    origin = "transparency.example.org/log"
    key = "transparency.example.org/log+1a2b3c4d+AQ…"

Paths are relative to the file. A log is followed by its origin and its verifier key; the key's
name must be the origin (C2SP signed-note binds the two)."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.note import Verifier, check_name, parse_verifier_key

CONFIG_NAME = "witness.toml"


@dataclass
class WitnessConfig:
    path: Path
    name: str
    key_file: str = "witness.key"
    state_file: str = "witness.db"
    logs: dict[str, Verifier] = field(default_factory=dict)

    @property
    def key_path(self) -> Path:
        return self.path.parent / self.key_file

    @property
    def state_path(self) -> Path:
        return self.path.parent / self.state_file

    def follow(self, key: str) -> Verifier:
        verifier = parse_verifier_key(key)
        self.logs[verifier.name] = verifier
        return verifier

    def render(self) -> str:
        # JSON string syntax is valid TOML basic-string syntax for these values.
        out = [
            "# wefirst witness: the logs this witness cosigns (see `wefirst witness --help`)",
            f"name = {json.dumps(self.name)}",
            f"key_file = {json.dumps(self.key_file)}",
            f"state_file = {json.dumps(self.state_file)}",
        ]
        for origin, v in sorted(self.logs.items()):
            out += ["", "[[logs]]", f"origin = {json.dumps(origin)}", f"key = {json.dumps(v.key_string)}"]
        return "\n".join(out) + "\n"

    def save(self) -> None:
        """Atomically: a crash never leaves a half-written configuration."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".witness-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.render())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load_config(path: Path) -> WitnessConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise LogFormatError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise LogFormatError(f"{path}: not UTF-8 text") from None
    name = data.get("name")
    if not isinstance(name, str):
        raise LogFormatError(f"{path}: 'name' (the witness's key name) is missing")
    check_name(name)
    cfg = WitnessConfig(path, name)
    for field_name in ("key_file", "state_file"):
        value = data.get(field_name, getattr(cfg, field_name))
        if not isinstance(value, str) or not value:
            raise LogFormatError(f"{path}: {field_name!r} must be a file name")
        setattr(cfg, field_name, value)
    logs = data.get("logs", [])
    if not isinstance(logs, list):
        raise LogFormatError(f"{path}: 'logs' must be a list of [[logs]] tables")
    for i, item in enumerate(logs):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise LogFormatError(f'{path}: logs[{i}] needs key = "<origin>+<id>+<base64>"')
        verifier = cfg.follow(item["key"])
        origin = item.get("origin", verifier.name)
        if origin != verifier.name:
            raise LogFormatError(
                f"{path}: logs[{i}]: origin {origin!r} differs from the key's name {verifier.name!r}"
            )
    return cfg
