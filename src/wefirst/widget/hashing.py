"""The widget's click keys, made with the shared pseudonyms (`wefirst.pseudonyms`): a reader's
address becomes the key of its network (IPv4 /24, IPv6 /48) and the widget's visitor commitment
(already a hash made in the browser) a key per campaign, both HMACs under the random salt of
the UTC day, so the stored keys link nothing across days or campaigns. Truncated to 128 bits:
they only need to tell a day's visitors apart."""

from __future__ import annotations

from wefirst.pseudonyms import READER_KEY_CHARS, keyed_hash, reader_network_key

KEY_CHARS = READER_KEY_CHARS


def net_key(salt: bytes, address: str | None) -> str:
    """The reader's network key: the same one a brand's server click is bounded under
    (`widget/api_clicks.py`), so the two paths share one budget per network."""
    return reader_network_key(salt, address)


def visitor_key(salt: bytes, campaign_id: str, visitor: str) -> str:
    return keyed_hash(salt, "widget.visitor", f"{campaign_id}\n{visitor}")[:KEY_CHARS]
