"""Outgoing signed webhooks for every area (voice alerts, case alerts, later ledger events).

An area calls `outbox.enqueue(conn, brand_id, type, data, now)` inside the transaction of the
change it reports: the event and one delivery row per active endpoint of the brand are stored
with that change, or not at all. Nothing is sent inside a request: the `worker` claims due
deliveries (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes on several
hosts never send one delivery twice at once), POSTs them through the one `transport`, records
every attempt (status and an error category), and retries with exponential backoff up to a
bound. A replay re-queues. Requests are signed per the Standard Webhooks specification
(`signing`); receivers' documentation: docs/webhooks.md.
"""
