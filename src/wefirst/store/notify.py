"""Commits of other processes, heard: PostgreSQL LISTEN on the channels the database's triggers
NOTIFY (migration 0031: the log's queue), handed to this process's `Database.listen` listeners.

Why (issue 18): each uvicorn worker, connector and CLI command queues log entries, but only one
process sequences them; without this the sequencer found another process's entries at its next
idle look, up to a second later, which is as long as a receipt waited for its inclusion proof.
A notification is only a wake: entries are never lost when one is missed (the idle look and the
next round still find them), so a broken connection is retried with a backoff, not fatal."""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from wefirst.background import BackgroundThread

log = logging.getLogger(__name__)

#: How long one wait for notifications lasts before the stop flag and the channels are looked at
#: again: a client-side wait on the socket, so a short one costs the server nothing, and a stop
#: (each app's shutdown) never waits long.
WAIT_SECONDS = 0.1


def channel_query(name: str) -> sql.Composed:
    """The channel migration 0031's trigger notifies for `name`: the schema's own, so two
    deployments in one database never wake each other (and the test suite's schemas do not)."""
    return sql.SQL("SELECT {} || left(md5(current_schema()), 16)").format(sql.Literal(f"wefirst_{name}_"))


class Notifications(BackgroundThread):
    """One connection of its own, in autocommit, that LISTENs on the channel of every name in
    `names()` and calls `heard(name)` for each notification another process's commit sent.
    Notifications sent by a server process in `own` (this `Database`'s connections, whose
    commits already woke its listeners, at once, through `Database.after`) are dropped."""

    thread_name = "wefirst-notifications"

    def __init__(
        self, url: str, *, own: set[int], names: Callable[[], set[str]], heard: Callable[[str], None]
    ) -> None:
        super().__init__()
        self.conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.own = own
        self.name = f"wefirst-notifications-{id(self):x}"
        self.names = names
        self.heard = heard
        #: What an operator (and a test) can watch: the names listened to now, the connections
        #: made, the notifications received (this process's own included).
        self.listening: set[str] = set()
        self.connections = 0
        self.received = 0

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, application_name=self.name) as conn:
                    self.connections += 1
                    backoff = 1.0
                    self._listen(conn)
            except psycopg.Error as e:
                log.warning("listening for other processes' commits failed (%s); again in %.0f s", e, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                self.listening = set()

    def _listen(self, conn: psycopg.Connection) -> None:
        channels: dict[str, str] = {}
        while not self._stop.is_set():
            for name in sorted(self.names() - set(channels.values())):
                row = conn.execute(channel_query(name)).fetchone()
                assert row is not None
                channel = str(row[0])
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                channels[channel] = name
            self.listening = set(channels.values())
            for note in conn.notifies(timeout=WAIT_SECONDS):
                if self._stop.is_set():
                    return  # stopped without waiting (`Database.unlisten`): wake nobody now
                self.received += 1
                if note.pid not in self.own and note.channel in channels:
                    self.heard(channels[note.channel])
