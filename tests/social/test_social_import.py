"""A brand's own Facebook/Instagram/TikTok export (CSV), counted under the campaign's same
rules and marked "reported by the brand" — in the disclosure, the API and on the page — never
as verified; a bad file is refused whole with a message naming the line, column and fix.

Before: networks without a public API had no way in at all (a rule with network facebook was a
422, and there was no import)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wefirst.ledger.balances import campaign_balance
from wefirst.social import cli as social_cli
from wefirst.store.db import Database

from factories import make_beneficiary, make_brand, make_campaign

POST = "https://www.facebook.com/doudou/posts/pfbid0abc"
HEADER = "action,target,account_id,account_created_at,account_posts,account_is_bot,occurred_at,action_id\n"
GOOD = (
    HEADER
    + f"like,{POST},100001,2019-05-02,340,false,2026-03-14T09:00:00Z,\n"
    + f"like,{POST},100002,2018-01-20T10:00:00Z,80,,2026-03-14T09:01:00Z,\n"
    + f"like,{POST},100001,2019-05-02,340,false,2026-03-14T09:05:00Z,\n"  # the same account again
    + f"like,{POST},100003,2026-03-12,3,false,2026-03-14T09:02:00Z,\n"  # two days old
    + f"like,{POST},100004,2020-03-12,900,true,2026-03-14T09:03:00Z,\n"  # a bot
    + "like,https://www.facebook.com/other/posts/1,100005,2019-05-02,40,false,2026-03-14T09:04:00Z,\n"
)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("WEFIRST_DATABASE_URL", database_url)


def _campaign(client: TestClient, db: Database, admin_key: str) -> str:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    rule = {"kind": "per_social_action", "action": "like", "network": "facebook", "target": POST,
            "units_per_action": 2}  # fmt: skip
    return make_campaign(client, brand, ben.id, rules=[rule])


def _import(cid: str, path: Path, network: str = "facebook") -> tuple[int, str]:
    r = CliRunner().invoke(social_cli.app, ["import", cid, str(path), "--network", network])
    return r.exit_code, r.output


def _units(db: Database, cid: str) -> int:
    with db.read() as conn:
        bal = campaign_balance(conn, cid)
    return 0 if bal is None else bal.pledged_units


def test_an_export_counts_under_the_same_rules_and_says_reported_by_the_brand(
    client: TestClient, db: Database, admin_key: str, tmp_path: Path, cli_env: None
) -> None:
    cid = _campaign(client, db, admin_key)
    export = tmp_path / "facebook.csv"
    export.write_text(GOOD, encoding="utf-8")
    code, out = _import(cid, export)
    assert code == 0, out
    assert '{"counted": 2, "duplicate": 1, "no_rule": 1, "refused": 2}' in out
    assert "match no rule" in out
    assert _units(db, cid) == 4
    code, out = _import(cid, export)  # the same file again: nothing changes
    assert code == 0, out
    assert _units(db, cid) == 4

    rule = client.get(f"/v1/campaigns/{cid}/social").json()["rules"][0]
    assert (rule["network"], rule["reported_by_brand"], rule["counted"]) == ("facebook", True, 2)
    assert rule["refused"] == {"too_young": 1, "bot": 1}
    assert "100001" not in client.get(f"/v1/campaigns/{cid}/social").text  # account ids are hashed
    campaign = client.get(f"/v1/campaigns/{cid}").json()
    disclosure = str(campaign.get("disclosure") or campaign)
    assert "Reported by the brand" in disclosure
    assert "not verified" in disclosure
    page = client.get(f"/campaigns/{cid}")
    assert "reported by the brand, not verified" in page.text
    fr = client.get(f"/campaigns/{cid}", headers={"Accept-Language": "fr"})
    assert "déclaré par la marque, non vérifié" in fr.text


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (f"love,{POST},1,2019-05-02,3,false,2026-03-14T09:00:00Z,\n",
         "line 3, column action: 'love' is not one of"),
        (f"like,{POST},1,yesterday,3,false,2026-03-14T09:00:00Z,\n",
         "line 3, column account_created_at: write a date like 2024-05-31"),
        (f"like,{POST},1,2019-05-02,many,false,2026-03-14T09:00:00Z,\n", "line 3, column account_posts"),
        (f"like,{POST},,2019-05-02,3,maybe,2026-03-14T09:00:00Z,\n", "line 3, column account_id: empty"),
    ],
)  # fmt: skip
def test_a_bad_row_refuses_the_whole_file_naming_the_fix(
    client: TestClient, db: Database, admin_key: str, tmp_path: Path, cli_env: None, bad_row: str,
    expected: str,
) -> None:  # fmt: skip
    cid = _campaign(client, db, admin_key)
    export = tmp_path / "bad.csv"
    good_row = f"like,{POST},100001,2019-05-02,340,false,2026-03-14T09:00:00Z,\n"
    export.write_text(HEADER + good_row + bad_row, encoding="utf-8")  # a good row first: still nothing
    code, out = _import(cid, export)
    assert code == 2
    assert expected in " ".join(out.split())
    assert "nothing was imported" in " ".join(out.split())
    assert _units(db, cid) == 0


def test_import_errors_name_the_fix(
    client: TestClient, db: Database, admin_key: str, tmp_path: Path, cli_env: None
) -> None:
    cid = _campaign(client, db, admin_key)
    header_only = tmp_path / "header.csv"
    header_only.write_text("action,target\nlike,x\n", encoding="utf-8")
    out = " ".join(_import(cid, header_only)[1].split())
    assert "line 1 (header): missing column(s) account_id, account_created_at" in out
    header_only.write_text(HEADER, encoding="utf-8")
    assert "no rows after the header" in " ".join(_import(cid, header_only)[1].split())
    code, out = _import(cid, tmp_path / "missing.csv")
    assert code == 2
    assert "give the path of the CSV file" in " ".join(out.split())
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        (HEADER + f"like,{POST},1,2019-05-02,3,false,2026-03-14T09:00:00Z,é\n").encode("latin-1")
    )
    assert "export it as CSV (UTF-8)" in " ".join(_import(cid, latin)[1].split())
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    code, out = _import(cid, good, network="mastodon")
    assert code == 2
    assert "read from the network" in " ".join(out.split())
    code, out = _import(cid, good, network="tiktok")
    assert code == 2
    assert "no per_social_action rule with network tiktok" in " ".join(out.split())
    assert _units(db, cid) == 0
