"""Warm the page roll-ups when the app starts, in the background: a campaign's first view
otherwise reads its whole ledger (seconds for half a million pledges, see docs/benchmarks.md),
and the first visitor after a deploy should not wait for it. A view that arrives while its
campaign is warming waits for that work instead of repeating it (the roll-up's lock)."""

from __future__ import annotations

import logging
import threading

from fastapi import FastAPI

from wefirst.web import queries

log = logging.getLogger("wefirst.web")


def start(app: FastAPI) -> None:
    state = app.state

    def run() -> None:
        try:
            roll = queries.rollups(state)
            with state.db.read() as conn:
                ids = [v.id for v in queries.active_campaigns(conn, limit=1000)]
            for campaign_id in ids:
                if getattr(state, "web_warmup_stop", False):
                    return
                with state.db.read() as conn:
                    roll.days(conn, campaign_id)
        except Exception:  # a failed warm-up only means slower first views
            log.warning("page roll-up warm-up stopped", exc_info=True)

    state.web_warmup_stop = False
    thread = threading.Thread(target=run, name="wefirst-web-warmup", daemon=True)
    state.web_warmup = thread
    thread.start()


def stop(app: FastAPI) -> None:
    app.state.web_warmup_stop = True
    thread = getattr(app.state, "web_warmup", None)
    if isinstance(thread, threading.Thread):
        thread.join(timeout=10)
