"""The periodic pass (`wefirst cases sweep` from cron, or `POST /v1/cases/sweep`): mark
overdue complaints unanswered (queueing `case.overdue` webhooks), queue a mail to the followers
of each commitment falling due, forget unconfirmed co-sign and follow requests whose link
expired, and drop rate-limit events no window can see any more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from wefirst import ratelimit
from wefirst.cases import follow_events, followers, service, supporters, webhooks
from wefirst.settings import Settings


@dataclass(frozen=True)
class Swept:
    marked: list[str]
    purged_unconfirmed: int
    pruned_rate_events: int
    commitments_due: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "marked": self.marked,
            "purged_unconfirmed": self.purged_unconfirmed,
            "pruned_rate_events": self.pruned_rate_events,
            "commitments_due": self.commitments_due,
        }


def run_sweep(conn: Connection, settings: Settings, now: datetime) -> Swept:
    marked = service.sweep_unanswered(conn, settings, now)
    for case_id in marked:  # the brand hears of it in the same transaction
        webhooks.publish(conn, settings, service.get_case(conn, case_id), "case.overdue", now)
    due = follow_events.queue_due_commitments(conn, now)
    purged = supporters.purge_unconfirmed(conn, settings, now) + followers.purge_unconfirmed(
        conn, settings, now
    )
    pruned = ratelimit.prune(conn, now)
    return Swept(marked, purged, pruned, due)
