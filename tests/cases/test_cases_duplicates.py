from wefirst.cases.duplicates import Fingerprint, compare, find_duplicates, is_duplicate

ORIGINAL = Fingerprint.of(
    "Plastic bottles dumped in the river",
    "The factory near Lyon has been dumping plastic bottles into the Rhône every night since "
    "March. Neighbours filmed the trucks.",
    "Stop the dumping and clean the river bank.",
)


def test_reworded_copy_with_accents_and_case_changes_is_a_duplicate() -> None:
    copy = Fingerprint.of(
        "plastic bottles dumped in the river!",
        "The factory near Lyon has been dumping plastic bottles into the RHONE every night since "
        "march. Neighbours filmed the trucks!!",
        "Stop the dumping and clean the river bank",
    )
    t, b = compare(ORIGINAL, copy)
    assert t > 0.9
    assert b > 0.9
    assert is_duplicate(t, b)


def test_same_title_lightly_edited_body_is_a_duplicate() -> None:
    edited = Fingerprint.of(
        "Plastic bottles dumped into the river",
        "Since March the factory near Lyon has been dumping plastic bottles into the Rhône every "
        "night. My neighbours filmed the trucks doing it.",
        "Stop the dumping.",
    )
    assert find_duplicates(edited, [("cas_1", ORIGINAL)])


def test_different_story_about_the_same_topic_is_not_a_duplicate() -> None:
    other = Fingerprint.of(
        "Misleading recycling label on bottles",
        "The label says 100% recycled plastic but the company report says 25%. The advert ran "
        "on TV all summer.",
        "Correct the label.",
    )
    assert find_duplicates(other, [("cas_1", ORIGINAL)]) == []


def test_same_generic_title_but_different_body_is_not_a_duplicate() -> None:
    a = Fingerprint.of("Bad campaign", "The vaccine campaign counted clicks twice on the widget.")
    b = Fingerprint.of("Bad campaign", "Their water campaign never delivered any filters to Dakar.")
    t, body = compare(a, b)
    assert t == 1.0
    assert not is_duplicate(t, body)


def test_matches_sorted_most_similar_first() -> None:
    same_title_only = Fingerprint.of("Plastic bottles dumped in the river", "x y z")
    edited = Fingerprint.of(
        "Plastic bottles dumped in the river",
        "The factory near Lyon has been dumping plastic bottles into the Rhône every night since "
        "April. Neighbours filmed the trucks.",
    )
    found = find_duplicates(
        ORIGINAL, [("cas_title", same_title_only), ("cas_edit", edited), ("cas_same", ORIGINAL)]
    )
    assert [m.case_id for m in found] == ["cas_same", "cas_edit"]
    assert found[0].body_similarity == 1.0
    assert found[1].body_similarity < 1.0
