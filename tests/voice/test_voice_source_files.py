from __future__ import annotations

import json
from pathlib import Path

import pytest

from wefirst.voice.sources.files import ColumnMapping, read_file

SALT = b"salt"
AIRLINE = Path(__file__).resolve().parents[3] / "shared" / "data" / "voice" / "airline_tweets_2015_dev.csv"


@pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data absent")
def test_airline_csv_imports_as_is() -> None:
    read = read_file(AIRLINE, SALT)
    assert read.preset == "airline"
    assert read.errors == []
    assert read.rows == 10_270
    ids = [p.external_id for p in read.posts]
    assert len(set(ids)) == 10_270 - 114  # the README's duplicate rows share an id
    first = read.posts[0]
    assert first.external_id.startswith("twitter:5")
    assert len(first.external_id) == 8 + 18
    assert first.url == "https://twitter.com/i/web/status/" + first.external_id[8:]
    assert read.posts == sorted(read.posts, key=lambda p: p.created_at)
    assert {p.source_label for p in read.posts} == {"negative", "neutral", "positive"}
    assert any(p.reason == "Late Flight" for p in read.posts)
    assert all(p.language == "en" for p in read.posts)


def test_csv_with_quoted_newlines_mapping_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(
        "msg_id,body,when,who\r\n"
        '1,"line one\nline two, with comma",2026-03-14T10:00:00Z,ann\r\n'
        "2,,2026-03-14T10:00:00Z,bob\r\n"
        "3,no date,,carl\r\n"
        '4,"said ""hi""",2026-03-14 11:00:00 +0100,dee\r\n',
        encoding="utf-8",
    )
    mapping = ColumnMapping.from_options(
        ColumnMapping(),
        {"id": "msg_id", "text": "body", "created_at": "when", "author": "who", "language": ""},
    )
    read = read_file(path, SALT, mapping=mapping)
    assert [p.external_id for p in read.posts] == ["1", "4"]  # by time; ties keep file order
    assert read.posts[0].text == "line one\nline two, with comma"
    assert read.posts[1].text == 'said "hi"'
    assert [(e.line, e.reason.split(" ")[0]) for e in read.errors] == [(4, "empty"), (5, "not")]


def test_missing_columns_and_unknown_mapping_keys_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        read_file(path, SALT)
    with pytest.raises(ValueError, match="unknown mapping keys: colour"):
        ColumnMapping.from_options(ColumnMapping(), {"colour": "x"})
    with pytest.raises(ValueError, match="unknown preset"):
        read_file(path, SALT, preset="nope")


def test_jsonl_and_content_hash_ids(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    rows = [
        {"text": "Pampers again", "created_at": "2026-03-14T10:00:00Z", "author": "a", "likes": 3},
        {"text": "Pampers again", "created_at": "2026-03-14T10:00:00Z", "author": "a"},
        {"text": "other", "created_at": "2026-03-14T11:00:00Z", "id": "x7", "language": "FR"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\nnot json\n[1]\n", encoding="utf-8")
    read = read_file(path, SALT)
    assert len(read.posts) == 3
    assert len(read.errors) == 2
    assert read.posts[0].external_id == read.posts[1].external_id  # same content, same key
    assert read.posts[0].external_id.startswith("sha256:")
    assert read.posts[2].language == "fr"
    assert read.posts[0].engagement.likes == 3
