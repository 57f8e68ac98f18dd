"""The intent model: which topic, and which corpus item, a relative's question is.

A small supervised model trained on the corpus phrasings each time the corpus changes (a few seconds),
at two levels: a topic classifier over every phrasing plus ordinary chat lines (the `none` topic, from
data/not_questions.yaml), and one item classifier per topic over that topic's phrasings. Features are
what mature intent pipelines combine (Rasa's sparse + dense featurizers): character 1-3-grams (TF-IDF),
which catch the one word that changes the meaning (挣 vs 花, 男朋友 vs 男孩), and the sentence embedding,
which carries meaning across wording the corpus never used. Linear SVMs are fast to train on two cores;
their margins become probabilities through a softmax whose temperature is calibrated on the development
set (bench/eval_retrieval.py), so the thresholds of the answer tiers mean "this sure, this often right".
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn import __version__ as sklearn_version
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

log = logging.getLogger(__name__)
NONE = "none"  # the topic of lines that are not a question to the young person (新年快乐, 饺子好了)
MODEL_VERSION = "intent-4"  # 2: item SVMs keep only the columns they use; 3: tol 1e-3; 4: float32 weights


@dataclass(frozen=True)
class IntentSettings:
    """How the model is trained (part of its fingerprint)."""

    dense_weight: float  # the embedding's weight against the character n-grams
    c: float  # the SVMs' regularisation: higher fits the phrasings more tightly
    # How much each ordinary chat line counts against a phrasing in the topic SVM. One-vs-rest, the `none`
    # class (a few hundred lines) is outweighed by thousands of phrasings; fitted on dev.
    none_weight: float


@dataclass(frozen=True)
class Calibration:
    """How margins become probabilities, and how much the chat's last topic counts; fitted on the
    development set by bench/eval_retrieval.py, applied at prediction (not part of the fingerprint)."""

    topic_temperature: float  # p = softmax(margin / T)
    item_temperature: float
    prior_weight: float  # the last topic's probability is multiplied by this before normalising


@dataclass(frozen=True)
class Intent:
    """What the model makes of one question: topics and items with probabilities, best first."""

    topics: tuple[tuple[str, float], ...]
    items: tuple[tuple[str, str, float], ...]  # (item id, its topic, p(topic) * p(item | topic))

    @property
    def topic(self) -> str:
        return self.topics[0][0]

    @property
    def topic_confidence(self) -> float:
        return self.topics[0][1]

    @property
    def item(self) -> str | None:
        return self.items[0][0] if self.items else None

    @property
    def item_confidence(self) -> float:
        return self.items[0][2] if self.items else 0.0

    def topic_probability(self, topic: str) -> float:
        return dict(self.topics).get(topic, 0.0)


@dataclass(frozen=True)
class _Row:
    """One question's features as the classifiers see them: TF-IDF values at their n-gram columns (the
    rest are zero), then the weighted embedding in the columns after the `width` n-gram ones."""

    columns: np.ndarray
    values: np.ndarray
    width: int
    dense: np.ndarray


def _margins(clf, row: _Row) -> np.ndarray:
    """One margin per class; a two-class SVM gives one number (for classes_[1]), here as [-m, m].

    The linear decision function computed on the question's few non-zero n-gram columns and its
    embedding: sklearn's decision_function() on a one-row sparse matrix spends several times the product
    itself validating its input, per classifier per question (it was most of the cost of understanding one).
    """
    if isinstance(clf, _OneClass):
        return np.zeros(1)
    columns, values, width = row.columns, row.values, row.width
    if isinstance(clf, _SomeColumns):
        columns, values = clf.local(columns, values)
        width, clf = len(clf.columns), clf.svm
    coef = clf.coef_
    scores = coef[:, columns] @ values + coef[:, width:] @ row.dense + clf.intercept_
    return np.array([-scores[0], scores[0]]) if len(clf.classes_) == 2 else scores


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / max(temperature, 1e-6)
    z = np.exp(z - z.max())
    return z / z.sum()


class _OneClass:
    """A topic with a single item: no classifier to train, the item is certain given the topic."""

    def __init__(self, label: str) -> None:
        self.classes_ = np.array([label])

    def decision_function(self, x) -> np.ndarray:
        return np.zeros((x.shape[0], 1))


class _SomeColumns:
    """An SVM trained on the n-gram columns its rows contain, then the embedding.

    A topic's item SVM sees a few thousand of the corpus's ~140k n-grams; on every other column its
    weights would be exact zeros (no row to move them), and stored whole they made the model 700 MB in memory
    and in its cache file (loaded on every restart), for 5% non-zero numbers.
    """

    def __init__(self, svm: LinearSVC, columns: np.ndarray) -> None:
        self.svm, self.columns, self.classes_ = svm, columns, svm.classes_

    @classmethod
    def fit(cls, svm: LinearSVC, x, labels: np.ndarray, width: int) -> _SomeColumns:
        ngrams = np.unique(x[:, :width].indices)  # x is CSR: the columns any row uses
        keep = np.concatenate([ngrams, np.arange(width, x.shape[1])])
        return cls(svm.fit(x[:, keep], labels), ngrams)

    def local(self, columns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A question's n-gram columns (global, with their values) as this SVM's own, dropping the ones it
        never saw (their weight is zero)."""
        pos = np.searchsorted(self.columns, columns)
        hit = pos < len(self.columns)
        hit[hit] = self.columns[pos[hit]] == columns[hit]
        return pos[hit], values[hit]

    def decision_function(self, x) -> np.ndarray:
        """sklearn's own, on a full feature matrix (tests compare the hand-rolled margins with it)."""
        width = x.shape[1] - (self.svm.coef_.shape[1] - len(self.columns))
        return self.svm.decision_function(x[:, np.concatenate([self.columns, np.arange(width, x.shape[1])])])


def _in_float32(clf):
    """The fitted SVM with its weights in float32, the precision of the features they multiply (liblinear
    gives float64): the cache file read on every restart is half the size; every eval_retrieval figure stayed
    the same."""
    svm = clf.svm if isinstance(clf, _SomeColumns) else clf
    svm.coef_ = svm.coef_.astype(np.float32)
    svm.intercept_ = svm.intercept_.astype(np.float32)
    return clf


class IntentModel:
    def __init__(self, vectorizer: TfidfVectorizer, topic_clf, item_clfs: dict[str, object],
                 item_topic: dict[str, str], settings: IntentSettings, fingerprint: str) -> None:
        self.vectorizer, self.topic_clf, self.item_clfs = vectorizer, topic_clf, item_clfs
        self.item_topic, self.settings, self.fingerprint = item_topic, settings, fingerprint

    # -- training ------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, texts: Sequence[str], vectors: np.ndarray, items: Sequence[str], topics: Sequence[str],
            negatives: Sequence[str], negative_vectors: np.ndarray, settings: IntentSettings,
            fingerprint: str = "") -> IntentModel:
        """Train on normalised phrasings (with their item and topic) and on ordinary chat lines."""
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, dtype=np.float32)
        all_texts = [*texts, *negatives]
        all_vectors = np.vstack([vectors, negative_vectors]) if len(negatives) else vectors
        x = cls._features(vectorizer.fit_transform(all_texts), all_vectors, settings.dense_weight)
        topic_labels = np.array([*topics, *([NONE] * len(negatives))])
        items_arr, topics_arr = np.array(items), np.array(topics)
        x_items = x[: len(texts)]
        # liblinear trains without holding the GIL: the topic SVM and the item SVMs share the cores (the
        # first start on a fresh checkout waits for this).
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            weights = np.where(topic_labels == NONE, settings.none_weight, 1.0)
            topic_fit = pool.submit(cls._svm(settings).fit, x, topic_labels, sample_weight=weights)
            item_fits: dict[str, object] = {}
            for topic in sorted(set(topics)):
                rows = np.flatnonzero(topics_arr == topic)
                labels = items_arr[rows]
                if len(set(labels)) == 1:
                    item_fits[topic] = _OneClass(str(labels[0]))
                else:
                    item_fits[topic] = pool.submit(_SomeColumns.fit, cls._svm(settings), x_items[rows], labels,
                                                   len(vectorizer.vocabulary_))
            topic_clf = _in_float32(topic_fit.result())
            item_clfs = {t: _in_float32(f.result()) if isinstance(f, Future) else f for t, f in item_fits.items()}
        item_topic = dict(zip(items, topics, strict=True))
        return cls(vectorizer, topic_clf, item_clfs, item_topic, settings, fingerprint)

    @staticmethod
    def _svm(settings: IntentSettings) -> LinearSVC:
        # Crammer-Singer would be one joint problem; one-vs-rest (liblinear's default) trains in a fraction
        # of the time and measured no worse here. A stopping tolerance of 1e-3 (sklearn's is 1e-4) left
        # every accuracy figure of bench/eval_retrieval.py the same (one dev question's confidence crossed
        # 0.95 in the calibration table) and trains the topic SVM in three quarters of the time.
        return LinearSVC(C=settings.c, tol=1e-3, max_iter=5000)

    @staticmethod
    def _features(ngrams, vectors: np.ndarray, dense_weight: float):
        dense = sparse.csr_matrix(np.asarray(vectors, dtype=np.float32) * dense_weight)
        return sparse.hstack([ngrams, dense], format="csr")

    # -- prediction ----------------------------------------------------------------------------------
    def predict(self, text: str, vector: np.ndarray, calibration: Calibration, *, prior_topic: str | None = None,
                items_for: int = 3) -> Intent:
        """Topics and items for one normalised question. `prior_topic` (the topic the chat was just on)
        has its probability multiplied by `calibration.prior_weight` before normalising: a fragment such
        as 照片呢？ then leans to it, while a question that is clear on its own is not moved."""
        x = self._row(text, vector)
        scores = _margins(self.topic_clf, x)
        p_topic = _softmax(scores, calibration.topic_temperature)
        labels = [str(c) for c in self.topic_clf.classes_]
        if prior_topic in labels and calibration.prior_weight != 1.0:
            p_topic[labels.index(prior_topic)] *= calibration.prior_weight
            p_topic /= p_topic.sum()
        order = np.argsort(-p_topic)
        topics = tuple((labels[i], float(p_topic[i])) for i in order)
        wanted = [t for t, _ in topics if t != NONE][:items_for]
        if prior_topic in self.item_clfs and prior_topic not in wanted:
            wanted.append(prior_topic)
        items = []
        for topic in wanted:
            clf = self.item_clfs[topic]
            p_item = _softmax(_margins(clf, x), calibration.item_temperature)
            p_t = dict(topics)[topic]
            items.extend((str(label), topic, p_t * float(p)) for label, p in zip(clf.classes_, p_item, strict=True))
        items.sort(key=lambda r: -r[2])
        return Intent(topics, tuple(items))

    def _row(self, text: str, vector: np.ndarray) -> _Row:
        """The TfidfVectorizer's transform of one text, done by hand for speed (tests/engine check that it
        equals vectorizer.transform): counts of the known n-grams, 1 + log(count) (sublinear_tf), times
        idf, scaled to unit length."""
        v = self.vectorizer
        counts: dict[int, int] = {}
        for gram in v.build_analyzer()(text):
            if (j := v.vocabulary_.get(gram)) is not None:
                counts[j] = counts.get(j, 0) + 1
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * v.idf_[columns]
        norm = np.linalg.norm(values)
        if norm > 0:
            values = values / norm
        dense = np.asarray(vector, dtype=np.float32).reshape(-1) * self.settings.dense_weight
        return _Row(columns, values.astype(np.float32), len(v.vocabulary_), dense)

    # -- the cache next to the index -------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump((MODEL_VERSION, sklearn_version, self), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @staticmethod
    def load(path: Path, fingerprint: str) -> IntentModel | None:
        """The cached model, or None when it is missing, for another corpus or another library version.
        The file is written by this program next to its own index (it is a pickle: never load one you did
        not write)."""
        try:
            with path.open("rb") as f:
                version, sk, model = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, AttributeError, ImportError):
            return None
        if version != MODEL_VERSION or sk != sklearn_version or model.fingerprint != fingerprint:
            return None
        return model


def fingerprint(texts: Sequence[str], items: Sequence[str], topics: Sequence[str], negatives: Sequence[str],
                embedder: str, settings: IntentSettings) -> str:
    """Changes whenever anything the model is trained from changes."""
    h = hashlib.sha1(f"{MODEL_VERSION}\x1f{embedder}\x1f{settings.dense_weight}\x1f{settings.c}"
                     f"\x1f{settings.none_weight}".encode())
    for row in zip(texts, items, topics, strict=True):
        h.update("\x1f".join(row).encode("utf-8") + b"\x1e")
    for line in negatives:
        h.update(line.encode("utf-8") + b"\x1d")
    return h.hexdigest()
