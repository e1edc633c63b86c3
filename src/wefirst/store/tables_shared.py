"""Tables of the shared infrastructure every area uses: the day salts of pseudonyms and the
rate limiter's hits. Both are working data, not history: each row is deleted once no key or
window can use it any more (`DailySalts`, `ratelimit.prune`)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, LargeBinary, String, Table

from wefirst.store.meta import metadata

pseudonym_salts = Table(
    "pseudonym_salts",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("salt", LargeBinary(32), nullable=False),
)

rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    #: what is limited ("cases.cosign", "signin.network"): budgets of different scopes never mix
    Column("scope", String(40), nullable=False),
    #: whose budget: a pseudonym (`pseudonyms.keyed_hash`), never an address in clear
    Column("key", String(80), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    #: when no window can see this hit any more (pruning deletes it then)
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_rate_limit_hits_lookup", "scope", "key", "at"),
    Index("ix_rate_limit_hits_expires_at", "expires_at"),
)
