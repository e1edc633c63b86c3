"""The queue's fast canonical-JSON path must give exactly the reference RFC 8785 bytes: a single
differing byte would change a leaf hash that outside verifiers recompute."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from wefirst.tlog.queue import _fast_jcs, canonical

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text()  # any code point, including controls, quotes, backslashes and non-ASCII
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(body=st.dictionaries(st.text(), values, max_size=6))
def test_fast_path_is_byte_identical_to_rfc8785(body: dict[str, Any]) -> None:
    entry = {**body, "v": 1, "kind": "k"}
    fast = _fast_jcs(entry)
    if fast is not None:
        assert fast == rfc8785.dumps(entry)
    assert canonical(entry) == rfc8785.dumps(entry)


def test_fast_path_declines_what_it_cannot_do() -> None:
    assert _fast_jcs({"v": 1, "kind": "k", "x": 1.5}) is None  # floats: JCS number formatting
    assert _fast_jcs({"v": 1, "kind": "k", "é": 1}) is None  # non-ASCII keys: UTF-16 order
    assert _fast_jcs({"v": 1, "kind": "k", "n": 2**60}) is None  # beyond I-JSON
    assert canonical({"v": 1, "kind": "k", "x": 1.5}) == b'{"kind":"k","v":1,"x":1.5}'
    assert canonical({"v": 1, "kind": "k", "é": 1, "z": 2}) == rfc8785.dumps(
        {"v": 1, "kind": "k", "é": 1, "z": 2}
    )
