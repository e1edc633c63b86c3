"""The fast canonical-JSON path must give exactly the reference RFC 8785 bytes."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from wefirst.tlog.queue import _fast_jcs, canonical

leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=20))
plain = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=8), plain, max_size=6))
def test_fast_path_equals_reference(entry: dict[str, Any]) -> None:
    fast = _fast_jcs(entry)
    if fast is not None:
        assert fast == rfc8785.dumps(entry)


def test_out_of_range_and_floats_use_the_reference() -> None:
    assert _fast_jcs({"n": 2**60}) is None
    assert _fast_jcs({"x": 1.5}) is None
    assert _fast_jcs({"k\u00e9": 1}) is None
    entry: dict[str, Any] = {"v": 1, "kind": "pledge", "note": 'é\n\u2028"', "n": [1, True, None]}
    assert canonical(entry) == rfc8785.dumps(entry)
