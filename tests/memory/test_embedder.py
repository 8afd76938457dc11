"""The local embedder: deterministic, preamble-aware, tag-aware."""

from __future__ import annotations

import random

import numpy as np

from minima_grpc.memory.embedded.embedder import DocFrequencies, Features, embed, quantize

PREAMBLE = " ".join(
    f"Example {i}: which planet is closest to the sun? A) mars B) venus C) mercury. Answer: C."
    for i in range(5)
)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def _fitted(texts: list[str]) -> DocFrequencies:
    df = DocFrequencies()
    df.add([Features(t) for t in texts])
    return df


def test_same_text_same_vector_and_unit_length() -> None:
    df = _fitted(["alpha beta", "gamma delta"])
    one, two = embed([Features("alpha beta gamma"), Features("alpha beta gamma")], df)
    assert np.array_equal(one, two)
    assert abs(float(np.linalg.norm(one)) - 1.0) < 1e-6


def test_a_shared_preamble_no_longer_makes_prompts_look_alike() -> None:
    rng = random.Random(0)
    vocabulary = [f"term{i}" for i in range(3000)]
    questions = ["Which gas do plants absorb from the air?"] + [
        " ".join(rng.sample(vocabulary, 8)) + "?" for _ in range(40)
    ]
    prompts = [f"{PREAMBLE}\n{q}" for q in questions]
    others = [f"write a function number {i} that sorts a list" for i in range(40)]

    plain = embed([Features(p) for p in prompts], DocFrequencies())
    fitted_df = _fitted([*prompts, *others])
    fitted = embed([Features(p) for p in prompts], fitted_df)

    plain_sim = _cos(plain[0], plain[1])
    fitted_sim = _cos(fitted[0], fitted[1])
    assert plain_sim > 0.8  # term frequency alone: dominated by the preamble
    assert fitted_sim < plain_sim - 0.3
    # The question decides: the same question with the preamble is the nearest.
    query = embed([Features(f"{PREAMBLE}\nWhich gas do plants absorb?")], fitted_df)[0]
    assert int(np.argmax(fitted @ query)) == 0


def test_texts_differing_in_one_word_stay_apart() -> None:
    texts = [f"summarise incident report number {i}" for i in range(2000)]
    df = _fitted(texts)
    vectors = embed([Features(t) for t in texts], df)
    sims = vectors @ vectors.T
    assert (sims.argmax(axis=1) == np.arange(len(texts))).all()


def test_tags_pull_matching_records_closer() -> None:
    df = _fitted(["parse the file", "parse the config"])
    plain, python, rust = embed(
        [
            Features("parse the file"),
            Features("parse the file", ("lang:python",)),
            Features("parse the file", ("lang:rust",)),
        ],
        df,
    )
    query = embed([Features("parse the file", ("lang:python",))], df)[0]
    assert _cos(query, python) > _cos(query, plain) > _cos(query, rust) - 1e-6


def test_frequencies_round_trip_and_undo() -> None:
    features = [Features("a b c"), Features("b c d")]
    df = _fitted(["x y"])
    before = df.counts.copy()
    df.add(features)
    restored = DocFrequencies.from_bytes(df.to_bytes(), df.docs)
    assert np.array_equal(restored.counts, df.counts)
    assert restored.docs == 3
    df.remove(features)
    assert np.array_equal(df.counts, before)
    assert df.docs == 1


def test_quantised_codes_keep_the_ranking() -> None:
    texts = [f"topic {i % 7} item {i}" for i in range(200)]
    df = _fitted(texts)
    vectors = embed([Features(t) for t in texts], df)
    codes = quantize(vectors).astype(np.float32)
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    query = vectors[3]
    assert np.argsort(-(vectors @ query))[:5].tolist() == np.argsort(-(codes @ query))[:5].tolist()
