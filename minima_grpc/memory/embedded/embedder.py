"""The local text embedder: hashed word features, TF-IDF weighted per lane.

Why this and not a neural model: nothing is downloaded, a text embeds in tens
of microseconds, and on RouterBench a nearest train neighbour shares the test
prompt's task in 99.9% of cases (bench/memory_bench.py `quality`). Word
bigrams, character n-grams and tail-position weighting were measured and did
not pay off, so the features are plain lower-cased words (plus the record's
tags as distinct tokens).

A long preamble shared by many prompts (few-shot examples, a system prompt)
would make every prompt look alike. Document frequencies learned from the
lane's own stored texts (`DocFrequencies`) down-weight such shared words, so
the distinguishing part of a prompt dominates its vector. Each vector is
computed with the frequencies known when it is stored; measured on
RouterBench, embedding one text at a time as the lane grows loses nothing
against fitting the frequencies on the whole lane first.

Vectors are `DIM` signed hash buckets, each feature spread over `SPREAD`
buckets (a sparse random projection of the TF-IDF vector), L2-normalised and
stored as int8 (`quantize`): cosine similarity of two stored vectors
approximates the TF-IDF cosine. Spreading matters for short texts that differ
in one word: with one bucket per feature, two such texts collide outright
once in ~500 word pairs; with four, a collision moves the cosine by a quarter
at most (measured: exact-text lookup among 2,000 such texts finds itself
25% -> 100% of the time).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

DIM = 256
SPREAD = 4
# Document-frequency buckets per lane (uint32 counters: 1 MiB). Rare words that
# share a bucket with another rare word are harmless; sharing with a very
# common word is rare at this size.
DF_BUCKETS = 1 << 18
# Long texts keep their head and their tail, where the actual question of a
# prompt with a long preamble usually is.
MAX_EMBED_CHARS = 16_384
_HEAD_CHARS = 4_096
_TAG_PREFIX = "\x00tag:"
_WORD = re.compile(r"\w+")
_SPREAD_SALTS = np.arange(1, SPREAD + 1, dtype=np.uint32) * np.uint32(0x9E3779B9)
# Identifies the feature scheme in stored data; a change needs re-embedding.
EMBEDDER_ID = f"hashed-words-idf-v2:{DIM}x{SPREAD}"

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]
Codes = npt.NDArray[np.int8]
Hashes = npt.NDArray[np.uint32]


def _fmix32(h: Hashes) -> Hashes:
    """MurmurHash3's finaliser: spreads CRC32's linear bits over all 32 bits."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _clip(text: str) -> str:
    if len(text) <= MAX_EMBED_CHARS:
        return text
    return text[:_HEAD_CHARS] + " " + text[_HEAD_CHARS - MAX_EMBED_CHARS :]


class Features:
    """Distinct tokens of one text (as raw CRC32s) and their term counts.

    Hashes are finalised in batches (`_hashes`): numpy's per-call overhead
    would otherwise dominate for short texts.
    """

    __slots__ = ("counts", "raw")

    def __init__(self, text: str, tags: Sequence[str] = ()) -> None:
        counts = Counter(_WORD.findall(_clip(text).lower()))
        for tag in tags:
            counts[_TAG_PREFIX + tag] += 1
        self.raw = np.fromiter(
            (zlib.crc32(token.encode("utf-8")) for token in counts), np.uint32, len(counts)
        )
        self.counts = np.fromiter(counts.values(), np.float32, len(counts))


def _hashes(features: Sequence[Features]) -> tuple[Hashes, npt.NDArray[np.intp]]:
    """Finalised hashes of all features, and the row (text) each belongs to."""
    lengths = np.fromiter((f.raw.size for f in features), np.intp, len(features))
    rows = np.repeat(np.arange(len(features)), lengths)
    return _fmix32(np.concatenate([f.raw for f in features])), rows


def _buckets(hashes: Hashes) -> npt.NDArray[np.intp]:
    return (hashes & np.uint32(DF_BUCKETS - 1)).astype(np.intp)


class DocFrequencies:
    """How many of a lane's stored texts contain each (bucketed) feature."""

    __slots__ = ("counts", "docs")

    def __init__(self, counts: npt.NDArray[np.uint32] | None = None, docs: int = 0) -> None:
        self.counts = np.zeros(DF_BUCKETS, np.uint32) if counts is None else counts
        self.docs = docs

    def add(self, features: Sequence[Features]) -> None:
        """Count each text once per distinct bucket."""
        np.add.at(self.counts, self._cells(features), 1)
        self.docs += len(features)

    def remove(self, features: Sequence[Features]) -> None:
        """Undo `add` (a write that did not commit)."""
        np.subtract.at(self.counts, self._cells(features), 1)
        self.docs -= len(features)

    @staticmethod
    def _cells(features: Sequence[Features]) -> npt.NDArray[np.intp]:
        if not features:
            return np.empty(0, np.intp)
        hashes, rows = _hashes(features)
        return np.unique(rows * DF_BUCKETS + _buckets(hashes)) % DF_BUCKETS

    def idf(self, buckets: npt.NDArray[np.intp]) -> Vector:
        # Smoothed IDF (never zero): a word in every text still counts a little.
        found = self.counts[buckets].astype(np.float32)
        idf: Vector = np.log((self.docs + 1.0) / (found + 1.0)).astype(np.float32) + 1.0
        return idf

    def to_bytes(self) -> bytes:
        return zlib.compress(self.counts.astype("<u4").tobytes(), 1)

    @classmethod
    def from_bytes(cls, blob: bytes, docs: int) -> DocFrequencies:
        counts = np.frombuffer(zlib.decompress(blob), "<u4").astype(np.uint32)
        if counts.shape != (DF_BUCKETS,):
            raise ValueError(f"document frequencies have {counts.size} buckets, not {DF_BUCKETS}")
        return cls(counts, docs)


def embed(features: Sequence[Features], df: DocFrequencies) -> Matrix:
    """Unit vectors (rows) of several texts in one vectorised pass."""
    out = np.zeros((len(features), DIM), np.float32)
    if not features:
        return out
    hashes, rows = _hashes(features)
    counts = np.concatenate([f.counts for f in features])
    weights = (1.0 + np.log(counts)) * df.idf(_buckets(hashes))
    # SPREAD independent (bucket, sign) pairs per feature, each with 1/sqrt(SPREAD).
    spread = _fmix32(hashes[None, :] + _SPREAD_SALTS[:, None])
    signs = np.where(spread & np.uint32(1 << 31), np.float32(1.0), np.float32(-1.0))
    columns = (spread & np.uint32(DIM - 1)).astype(np.intp)
    cells = (rows[None, :] * DIM + columns).ravel()
    values = (weights[None, :] * signs / np.float32(np.sqrt(SPREAD))).ravel()
    flat = np.bincount(cells, weights=values, minlength=out.size)
    out[:] = flat.reshape(out.shape)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def quantize(vectors: Matrix) -> Codes:
    """int8 codes, each row scaled to use the full range (cosine ignores scale)."""
    peak = np.abs(vectors).max(axis=1, keepdims=True)
    scale = np.divide(127.0, peak, out=np.zeros_like(peak), where=peak > 0)
    codes: Codes = np.rint(vectors * scale).astype(np.int8)
    return codes


def dequantize(codes: Codes) -> Matrix:
    """Unit float32 rows back from int8 codes."""
    vectors = codes.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors
