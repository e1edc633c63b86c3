"""The receivers' documentation (docs/webhooks.md) runs: its Python, shell (openssl) and Node
snippets verify what wefirst's signer sends, refuse a tampered body and a wrong secret, and
the signer reproduces the Standard Webhooks specification's published test vector."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wefirst.webhooks import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def snippet(language: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1, f"one {language} block expected in docs/webhooks.md"
    return str(blocks[0])


def signed(body: bytes, *secrets: str) -> dict[str, str]:
    return signing.headers("evt_01TEST", int(time.time()), body, list(secrets))


BODY = json.dumps(
    {"type": "case.opened", "data": {"title": "Prix « justes » & co"}}, ensure_ascii=False
).encode()


def test_the_specification_test_vector() -> None:
    got = signing.sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert got == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def python_verifier() -> Callable[..., Any]:
    scope: dict[str, Any] = {}
    exec(compile(snippet("python"), str(DOC), "exec"), scope)  # noqa: S102 (our own documentation)
    return scope["verify_webhook"]  # type: ignore[no-any-return]


def test_python_snippet() -> None:
    verify = python_verifier()
    secret, old = signing.new_secret(), signing.new_secret()
    assert verify(secret, signed(BODY, secret), BODY) == "evt_01TEST"
    assert verify(old, signed(BODY, secret, old), BODY) == "evt_01TEST"  # during a rotation
    with pytest.raises(ValueError, match="no signature"):
        verify(secret, signed(BODY, secret), BODY + b" ")
    with pytest.raises(ValueError, match="no signature"):
        verify(signing.new_secret(), signed(BODY, secret), BODY)
    stale = signing.headers("evt_01TEST", int(time.time()) - 301, BODY, [secret])
    with pytest.raises(ValueError, match="timestamp"):
        verify(secret, stale, BODY)


def test_wefirst_verify_agrees() -> None:
    secret = signing.new_secret()
    now = time.time()
    assert signing.verify(secret, signed(BODY, secret), BODY, now) == "evt_01TEST"
    with pytest.raises(signing.SignatureError):
        signing.verify(secret, signed(BODY, signing.new_secret()), BODY, now)
    with pytest.raises(signing.SignatureError):
        signing.verify(secret, signed(BODY, secret), BODY, now + 400)


def run_shell(secret: str, headers: dict[str, str], body: bytes, tmp_path: Path) -> str:
    (tmp_path / "body.json").write_bytes(body)
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET": secret,
        "ID": headers["webhook-id"],
        "TS": headers["webhook-timestamp"],
        "SIGS": headers["webhook-signature"],
    }
    done = subprocess.run(
        ["bash", "-c", snippet("sh")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_shell_snippet(tmp_path: Path) -> None:
    secret, old = signing.new_secret(), signing.new_secret()
    assert run_shell(secret, signed(BODY, secret), BODY, tmp_path) == "valid"
    assert run_shell(old, signed(BODY, secret, old), BODY, tmp_path) == "valid"
    assert run_shell(secret, signed(BODY, secret), BODY + b"x", tmp_path) == "no signature matches"
    assert run_shell(signing.new_secret(), signed(BODY, secret), BODY, tmp_path) == "no signature matches"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_snippet(tmp_path: Path) -> None:
    secret, old = signing.new_secret(), signing.new_secret()
    cases = [
        (secret, signed(BODY, secret), BODY, True),
        (old, signed(BODY, secret, old), BODY, True),
        (secret, signed(BODY, secret), BODY + b"x", False),
        (signing.new_secret(), signed(BODY, secret), BODY, False),
    ]
    script = snippet("js") + (
        "\nconst cases = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(cases.map(([s, h, b]) => {\n"
        "  try { return verifyWebhook(s, h, Buffer.from(b, 'base64')) === h['webhook-id']; }\n"
        "  catch (e) { return false; }\n"
        "})));\n"
    )
    import base64

    arg = json.dumps([[s, h, base64.b64encode(b).decode()] for s, h, b, _ in cases])
    done = subprocess.run(["node", "-e", script, arg], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [ok for *_, ok in cases]
