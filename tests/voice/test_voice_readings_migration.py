"""0030_voice_readings: posts stored before it keep every row and are read as before (their
mention's polarity counts whole), now with their authors; new posts store the model's reading;
and the revision goes back down leaving the rows as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import func, inspect, select, text

from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_mentions, voice_posts
from wefirst.voice.detector import Observation
from wefirst.voice.irony import discounted
from wefirst.voice.matching import Match
from wefirst.voice.pipeline import Analysed
from wefirst.voice.post_store import DbPostStore, stored_observations
from wefirst.voice.posts import Post

BEFORE = "0029_tlog_index"
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
OLD_POSTS = [  # (external id, author hash, text, polarity)
    ("old-1", "f" * 32, "Acme awful", "negative"),
    ("old-2", None, "thanks Acme, great job losing my bag", "positive"),
]


def _old_rows(db: Database) -> None:
    with db.write() as conn:
        for i, (ext, author, body, polarity) in enumerate(OLD_POSTS):
            at = AT + timedelta(minutes=i)
            conn.execute(
                text(
                    "INSERT INTO voice_posts (source, external_id, author_hash, text, language, created_at,"
                    " url, replies, reposts, likes, sentiment, sentiment_score, reason, hidden, ingested_at)"
                    " VALUES ('mastodon', :ext, :author, :body, 'en', :at, NULL, 0, 1, 2, :pol, 0.5, NULL,"
                    " :hidden, :at)"
                ),
                {"ext": ext, "author": author, "body": body, "at": at, "pol": polarity, "hidden": False},
            )
            seq: int = conn.execute(
                text("SELECT seq FROM voice_posts WHERE external_id = :e"), {"e": ext}
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO voice_mentions (post_seq, brand_id, hour, language, polarity)"
                    " VALUES (:seq, 'brd_acme', :hour, 'en', :pol)"
                ),
                {"seq": seq, "hour": AT, "pol": polarity},
            )


def test_old_posts_read_as_before_and_new_ones_keep_the_models_reading(fresh: Settings) -> None:
    db = Database(fresh)
    try:
        migrate.upgrade(db, BEFORE)
        _old_rows(db)
        migrate.upgrade(db)
        assert migrate.pending_differences(db) == []
        with db.read() as conn:
            kept = conn.execute(
                select(
                    voice_posts.c.p_negative,
                    voice_posts.c.p_positive,
                    voice_posts.c.estimated,
                    voice_posts.c.irony,
                )
            ).all()
        assert [tuple(r) for r in kept] == [(None, None, False, False)] * 2
        old = list(stored_observations(db, ["brd_acme"], None))
        # the hard label, exactly as before 0030 (the ironic "thanks" stays a whole positive post),
        # and the author where the source gave one
        assert old == [
            Observation("brd_acme", "negative", AT, "old-1", "Acme awful", None, 3, "f" * 32),
            Observation(
                "brd_acme", "positive", AT + timedelta(minutes=1), "old-2", OLD_POSTS[1][2], None, 3, ""
            ),
        ]
        assert [o.weight("positive") for o in old] == [0.0, 1.0]

        new = Post(
            "mastodon", "new-1", "a" * 32, "thanks Acme, great job losing my bag", AT + timedelta(hours=1)
        )
        ironic = Analysed(new, "en", "positive", 0.6, (Match("brd_acme"),), 0.1, 0.7, False, True)
        assert DbPostStore(db).save([ironic]) == [True]
        read = list(stored_observations(db, ["brd_acme"], AT + timedelta(minutes=30)))
        assert [(o.p_negative, o.p_positive, o.author) for o in read] == [
            (*discounted(0.1, 0.7, cue=True), "a" * 32)
        ]

        cfg = migrate.alembic_config(db.url)
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, BEFORE)
        with db.read() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("voice_posts")}
            posts = conn.execute(select(func.count()).select_from(voice_posts)).scalar_one()
            mentions = conn.execute(select(func.count()).select_from(voice_mentions)).scalar_one()
            texts: set[str] = set(conn.execute(text("SELECT text FROM voice_posts")).scalars())
        assert not columns & {"p_negative", "p_positive", "estimated", "irony"}
        assert (posts, mentions) == (3, 3)
        assert texts == {b for _e, _a, b, _p in OLD_POSTS}
    finally:
        db.dispose()
