"""Reading a published log from an http(s) URL or a local directory with the same layout.

The verifier uses nothing else: no database, no wefirst server code, so it checks exactly what
the public sees."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import httpx

from wefirst.tlog.errors import NotFoundError, TlogError
from wefirst.tlog.tiles import parse_tile_path

PUBLIC_FILES = ("checkpoint", "key")


class SourceUnavailable(TlogError):
    """The log or API could not be reached or answered with an unexpected status."""


def _check(path: str) -> None:
    if path not in PUBLIC_FILES:
        parse_tile_path(path)


class LogSource:
    """``fetch(path)`` answers the bytes under the log prefix, or None for a 404/missing file."""

    def __init__(self, location: str, *, timeout: float = 30.0) -> None:
        self.location = location.rstrip("/")
        self.is_http = location.startswith(("http://", "https://"))
        self._client: httpx.Client | None = None
        if self.is_http:
            self._client = httpx.Client(timeout=timeout, follow_redirects=True)
        else:
            self.root = Path(location)
            if not self.root.is_dir():
                raise NotFoundError(f"{location}: no such log directory")

    def __enter__(self) -> LogSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def fetch(self, path: str) -> bytes | None:
        _check(path)
        if self._client is None:
            try:
                return (self.root / path).read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None
        return self.get_url(f"{self.location}/{path}")

    def get_url(self, url: str) -> bytes | None:
        """GET any URL with this source's client (the API next to the log); None for 404."""
        status, content = self.get_status(url)
        if status == 404:
            return None
        if status != 200:
            raise SourceUnavailable(f"{url} answered HTTP {status}")
        return content

    def get_status(self, url: str) -> tuple[int, bytes]:
        client = self._client or httpx.Client(timeout=30.0)
        try:
            response = client.get(url)
        except httpx.HTTPError as e:
            raise SourceUnavailable(f"cannot reach {url}: {e}") from None
        finally:
            if client is not self._client:
                client.close()
        return response.status_code, response.content

    def require(self, path: str) -> bytes:
        data = self.fetch(path)
        if data is None:
            raise NotFoundError(f"{self.location}/{path} is not published")
        return data


def api_base_for(log_location: str) -> str | None:
    """The API root next to a served log (``https://h/log`` → ``https://h``)."""
    loc = log_location.rstrip("/")
    if loc.startswith(("http://", "https://")) and loc.endswith("/log"):
        return loc[: -len("/log")]
    return None
