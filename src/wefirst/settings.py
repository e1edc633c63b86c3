"""The one settings class. Every knob lives here so the CLI, the docs and the tests agree;
`wefirst settings-doc` renders docs/settings.md from it and a test fails when they drift."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from `WEFIRST_*` environment variables (and a `.env` file when present)."""

    model_config = SettingsConfigDict(env_prefix="WEFIRST_", env_file=".env", extra="ignore")

    # core
    database_url: str = Field(
        "sqlite:///wefirst.db",
        description="SQLAlchemy URL. SQLite (WAL) by default; postgresql+psycopg://… at scale.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL of this deployment (links, receipts)."
    )
    secret_key: str = Field(
        "dev-insecure-change-me",
        description="Server secret for HMACs (order-id salts, tokens, sessions). Set in production.",
    )
    development: bool = Field(
        False,
        description="Development mode: `serve`, `voice listen` and `webhooks work` start even "
        "when the production checklist (docs/deploy.md) finds unsafe settings, with a warning "
        "naming each. Never in production.",
    )
    data_dir: Path = Field(Path("."), description="Folder for generated files (signer key, tile directory).")
    idempotency_retention_days: int = Field(
        21, description="How long stored responses to Idempotency-Key requests are replayed."
    )
    maintenance_interval_seconds: float = Field(
        3600.0,
        ge=0,
        description="How often the app's own upkeep pass runs (one process at a time across "
        "hosts): the cases sweep, expired co-sign requests, rate-limit rows, Idempotency-Key "
        "answers, sign-in links and old webhook deliveries (docs/deploy.md). 0 turns it off "
        "(then schedule `wefirst db purge` yourself).",
    )
    webhooks_retention_days: int = Field(
        30,
        ge=1,
        description="Delivered or failed webhook deliveries (and their attempts) older than this "
        "are purged by the upkeep pass.",
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body accepted (JSON, forms, shop webhooks); larger ones get "
        "413 before being read. Set your proxy's limit (nginx client_max_body_size) at least as high.",
    )
    max_report_body_bytes: int = Field(
        20 * 1_048_576,
        ge=1024,
        description="Largest retailer sales report (CSV) accepted by POST .../sales-reports.",
    )
    db_pool_size: int = Field(5, description="Connections per process in the PostgreSQL pool.")
    log_json: bool = Field(True, description="Structured JSON logs on stderr.")
    cookie_secure: bool | None = Field(
        None,
        description="Mark session and CSRF cookies Secure (and send HSTS). Unset: on unless "
        "base_url is http://, whatever the proxy headers say.",
    )
    metrics_key: str | None = Field(
        None,
        description="When set, GET /metrics needs `Authorization: Bearer <this key>` (the "
        "Prometheus scraper's bearer_token); unset, /metrics is public.",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Reverse proxies trusted for X-Forwarded-For/Proto (comma-separated, or *). "
        "Rate limits per network need the real client address.",
    )

    # claims
    claims_max_age_hours: int = Field(
        72,
        ge=1,
        description="Purchases and refunds claiming a time older than this (against the time "
        "they were received) are refused: a back-dated sale would fill past days' caps and "
        "rewrite history. Sales reports are exempt (their period is the claim), and so are "
        "connector redeliveries of an order already known.",
    )
    claims_clock_skew_seconds: int = Field(
        60,
        ge=0,
        le=600,
        description="How far ahead of ours a sender's clock may run; any later claimed time "
        "is in the future and refused.",
    )

    # outbound (wefirst.outbound: every request to an address a brand chose)
    outbound_allowed_networks: str = Field(
        "",
        description="Comma-separated CIDR ranges of non-public addresses that webhooks, feeds, "
        "Mastodon servers and shop call-backs may reach (on-premise receivers, e.g. "
        "10.20.0.0/16). Empty: only public addresses; loopback, private, link-local and "
        "IPv6-private targets are refused.",
    )
    outbound_https_only: bool = Field(
        True,
        description="Outgoing requests to addresses a brand chose must use https (WooCommerce "
        "call-backs send Basic auth). Off only for development and tests.",
    )

    # tlog
    tlog_origin: str | None = Field(
        None,
        description="Log origin (key name), fixed for the life of the log; default: base_url "
        "without its scheme, plus /log.",
    )
    tlog_key_path: Path | None = Field(
        None, description="Signer key file (Go note format, 0600); default data_dir/tlog.key."
    )
    tlog_key_autocreate: bool = Field(
        True,
        description="Create the signer key on first start when missing (demo); turn off in "
        "production so a lost key is an error, not a new log.",
    )
    tlog_tile_dir: Path | None = Field(
        None,
        description="Write tiles, bundles and the checkpoint to this directory (servable by any "
        "static web server) instead of the database.",
    )
    tlog_batch_size: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Entries per sequencer round while it keeps up; behind a backlog rounds double "
        "up to 16 times this (at most 100,000).",
    )
    tlog_batch_wait_ms: int = Field(
        200, ge=1, description="Longest an accepted entry waits before the next batch starts."
    )
    tlog_sequencer: bool = Field(
        True, description="Run the sequencer thread in the API process (one wins the lock)."
    )
    tlog_witnesses: str = Field(
        "",
        description="Witnesses that cosign the log's checkpoints: '<witness key> <url>' per line "
        "(or separated by ';'); the key is the witness's name+id+base64(0x04‖key) line.",
    )
    tlog_witness_quorum: int = Field(
        0,
        ge=0,
        description="k in the trust policy the deployment publishes (k of the witnesses must "
        "cosign); 0 means all of them.",
    )
    tlog_witness_submitter: bool = Field(
        True, description="Run the witness submitter thread in the API process (one wins the lock)."
    )
    tlog_witness_timeout_seconds: float = Field(
        10.0, gt=0, description="Longest the submitter waits for one witness's answer."
    )
    tlog_witness_max_backoff_seconds: float = Field(
        60.0, gt=0, description="Longest pause between retries to a witness that keeps failing."
    )

    # widget
    widget_clicks_per_visitor_per_day: int = Field(
        1, ge=1, description="Counted widget clicks per visitor per campaign per UTC day."
    )
    widget_visitor_attempts_per_minute: int = Field(
        10, ge=1, description="Click attempts one visitor may make per minute on a campaign."
    )
    widget_network_attempts_per_minute: int = Field(
        120,
        ge=1,
        description="Click attempts per minute from one network (IPv4 /24 or "
        "IPv6 /48), across campaigns; the address is only ever used hashed with a daily salt.",
    )
    widget_network_counted_per_day: int = Field(
        30,
        ge=1,
        description="Counted clicks per campaign per day from one network (IPv4 /24, IPv6 /48): "
        "a script that mints visitor ids and rotates addresses inside one network counts at "
        "most this many (docs/widget.md, limits and the attacks they bound).",
    )
    widget_network_counted_per_day_all_campaigns: int = Field(
        60,
        ge=1,
        description="Counted clicks per day from one network across every campaign: the same "
        "script spread over many campaigns still counts at most this many.",
    )
    widget_pow_bits_default: int = Field(
        10,
        ge=0,
        le=24,
        description="Proof of work asked of every widget click unless the campaign sets its "
        "own: about 2^bits SHA-256 in the reader's browser (10: ~1k hashes of the widget's "
        "plain-JS SHA-256, a few hundred ms on a 4x CPU-throttled page, started while the reader "
        "reads). Raised automatically by 2 or 4 bits for an hour while a campaign's refused "
        "clicks outnumber its counted ones.",
    )
    widget_challenge_ttl_seconds: int = Field(
        600, ge=10, description="Lifetime of the signed challenge a widget click must carry."
    )
    widget_min_click_delay_ms: int = Field(
        600,
        ge=0,
        description="Clicks sooner than this after the challenge was issued are "
        "refused as automated (the widget waits out the rest itself).",
    )
    widget_open_publisher_signup: bool = Field(
        True,
        description="Anyone may register as a publisher (POST /v1/publishers without a "
        "key); when false only an admin key can.",
    )
    widget_publisher_signups_per_network_per_day: int = Field(
        5,
        ge=1,
        description="Open publisher sign-ups (without a key) one network (IPv4 /24, IPv6 /48) "
        "may make per day: each is a new publisher key and a new source of clicks.",
    )
    widget_publisher_signups_per_address_per_day: int = Field(
        3,
        ge=1,
        description="Open publisher sign-ups one e-mail address may ask for per day (each sends "
        "a verification link to it): bounds mail sent to someone else's address.",
    )
    widget_publisher_verify_link_hours: int = Field(
        48,
        ge=1,
        description="How long the link e-mailed at publisher sign-up works. The publisher's key "
        "is refused, and its widget counts nothing, until the link is followed.",
    )

    # connectors
    connectors_encryption_key: str | None = Field(
        None,
        description="Base64 of 32 random bytes that encrypt shop signing secrets at rest "
        "(AES-GCM). Unset: derived from secret_key with HKDF. Changing it makes stored "
        "secrets unreadable.",
    )
    connectors_process_after_ack: bool = Field(
        True,
        description="Process each webhook delivery in a background task right after it is "
        "acknowledged; false leaves deliveries queued for `wefirst connectors process`.",
    )
    connectors_worker_interval_seconds: float = Field(
        15.0,
        description="How often the API process sweeps deliveries left queued (after a crash "
        "or a platform API outage); 0 turns the sweep off.",
    )
    connectors_stripe_tolerance_seconds: int = Field(
        300, description="Oldest accepted Stripe-Signature timestamp, in seconds (SDK default)."
    )
    connectors_fake_remote: bool = Field(
        False,
        description="Serve Stripe line items and WooCommerce refunds from the bundled demo "
        "recordings instead of calling the platforms (demo and tests only).",
    )

    # voice
    voice_author_salt: str = Field(
        "",
        description="Salt for hashing post authors (HMAC-SHA256). Empty: derived from secret_key.",
    )
    voice_alpha: float = Field(
        1e-4,
        description="Mobilization sensitivity: per-hour false-alarm probability per brand and "
        "polarity (docs/voice-detection.md). Lower = fewer, larger episodes.",
    )
    webhooks_worker: bool = Field(
        True,
        description="Send webhooks from a background thread of every API process (deliveries "
        "are leased, so any number may run); off: run `wefirst webhooks work` somewhere instead.",
    )
    webhooks_transport: str = Field(
        "http", description="`http` sends webhooks; `memory` keeps them in-process (tests, demo)."
    )
    webhooks_max_attempts: int = Field(
        30,
        ge=1,
        description="Attempts per webhook delivery (10 s doubling to 1 h between them: about a day) "
        "before it is marked failed; a failed delivery can still be replayed.",
    )
    webhooks_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="How long one webhook attempt may take, answer included."
    )
    voice_alert_max_age_seconds: int = Field(
        3600,
        description="Episodes detected longer ago than this (e.g. in a historical import) are "
        "stored but not alerted.",
    )
    voice_jetstream_url: str = Field(
        "wss://jetstream2.us-east.bsky.network/subscribe",
        description="Bluesky Jetstream (v1) endpoint for `wefirst voice listen`.",
    )
    voice_poll_seconds: int = Field(
        60, description="How often `wefirst voice listen` polls Mastodon timelines and RSS feeds."
    )

    # social actions
    social_check_per_network_per_hour: int = Field(
        120,
        ge=1,
        description='"Did my share count?" checks one network (IPv4 /24, IPv6 /48) may '
        "make per hour (the public box; each check reads the database).",
    )
    social_follow: bool = Field(
        False,
        description="Follow social actions live in a background thread of the app (Jetstream, "
        "and a backfill poll of every active social campaign); off: run `wefirst social follow` "
        "in one process instead (one follower is enough; two only repeat duplicates).",
    )
    social_jetstream_url: str = Field(
        "wss://jetstream2.us-east.bsky.network/subscribe",
        description="Bluesky Jetstream (v1) endpoint the social follower streams from; empty: "
        "Bluesky rules are polled only.",
    )
    social_poll_seconds: int = Field(
        300,
        ge=5,
        description="How often the social follower polls each active social campaign "
        "(Mastodon lists, and the Bluesky backfill of what the stream missed).",
    )
    social_bsky_appview: str = Field(
        "https://public.api.bsky.app", description="Bluesky AppView the social sources read."
    )
    social_mastodon_instance: str | None = Field(
        None,
        description="Instance whose hashtag timeline the social follower reads for "
        "Mastodon hashtag rules (e.g. https://mastodon.social).",
    )

    # cases
    cases_answer_within_hours: int = Field(
        168,
        ge=1,
        description="A complaint with no brand answer after this many hours is "
        "marked unanswered on the brand's scorecard.",
    )
    cases_max_evidence_links: int = Field(
        10, ge=0, le=50, description="Most evidence links one case may carry."
    )
    cases_verify_link_hours: int = Field(
        48, ge=1, description="How long an e-mailed co-sign confirmation link stays valid."
    )
    cases_rate_window_minutes: int = Field(
        60, ge=1, description="Window over which the per-address and per-network limits count."
    )
    cases_cosign_limit_per_address: int = Field(
        10, ge=1, description="Co-sign requests one e-mail address may make per window."
    )
    cases_cosign_limit_per_network: int = Field(
        30,
        ge=1,
        description="Co-sign requests one network (IPv4 /24, IPv6 /48) may make per window.",
    )
    cases_open_limit_per_network: int = Field(5, ge=1, description="Cases one network may open per window.")
    cases_report_limit_per_network: int = Field(
        20, ge=1, description="Moderation reports one network may file per window."
    )

    # mail
    mail_backend: Literal["memory", "smtp"] = Field(
        "memory",
        description="`smtp` sends through the server below; `memory` keeps messages "
        "in the process (development and tests).",
    )
    mail_from: str = Field(
        "wefirst <no-reply@wefirst.invalid>", description="From header of outgoing e-mail."
    )
    demo_outbox: bool = Field(
        False,
        description="Show the mails kept by the `memory` backend at /demo/outbox, so the demo's "
        "sign-in and co-sign links can be followed (demo only: the page shows everyone's links).",
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server host.")
    smtp_port: int = Field(25, description="SMTP server port (587 for submission).")
    smtp_starttls: bool = Field(False, description="Upgrade the connection with STARTTLS.")
    smtp_user: str | None = Field(None, description="SMTP AUTH user name, if the server needs one.")
    smtp_password: str | None = Field(None, description="SMTP AUTH password.")
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="SMTP connect/command timeout.")

    # web
    web_magic_link_minutes: int = Field(
        15, ge=1, description="How long an e-mailed console sign-in link stays valid (single use)."
    )
    web_signin_attempts_per_hour: int = Field(
        20, ge=1, description="Failed console sign-ins one e-mail address may make per hour."
    )
    web_signin_attempts_overall_per_hour: int = Field(
        2000,
        ge=1,
        description="Failed console sign-ins per hour across the whole site, whatever the "
        "address or network (a distributed spray); the e-mailed link still works meanwhile.",
    )
    web_magic_links_per_address_per_hour: int = Field(
        5, ge=1, description="Sign-in links one e-mail address may be sent per hour."
    )
    web_magic_links_per_network_per_hour: int = Field(
        30, ge=1, description="Sign-in link requests one network (IPv4 /24, IPv6 /48) may make per hour."
    )
    web_signin_attempts_per_network_per_hour: int = Field(
        100,
        ge=1,
        description="Failed console sign-ins one network (IPv4 /24, IPv6 /48) may make per hour, "
        "whatever addresses it tries (password spraying).",
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
