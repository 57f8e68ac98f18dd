"""The curated corpus: question-and-answer items per topic, and per-style fallbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.yaml_files import read_yaml

# Fixed topic ids: later tools (import, export, augmentation) and the evaluation sets rely on them.
TOPICS = (
    "dating", "marriage", "children", "salary", "job", "civil-service", "study", "house", "car",
    "looks", "age", "comparison", "hometown", "money", "lifestyle", "memory", "plans", "filial",
    "drinking", "favours", "divorce", "new-year", "smalltalk",
)


@dataclass(frozen=True)
class Item:
    id: str
    topic: str
    questions: tuple[str, ...]
    answers: dict[str, tuple[str, ...]]
    source: Path = field(compare=False, default=Path())

    @property
    def canonical(self) -> str:
        return self.questions[0]


# The shapes of a line a general reply is written for: one that asks something, one that only remarks
# (a lecture, a jab, a request). engine.normalize.is_question tells them apart.
SHAPES = ("question", "remark")


@dataclass
class Corpus:
    items: dict[str, Item]
    fallbacks: dict[str, tuple[str, ...]]  # style -> every general reply of the style
    # topic -> style -> answers that fit any question of the topic (data/topics/<topic>.yaml)
    topic_answers: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # Ordinary chat lines that are not a question to answer (data/not_questions.yaml): the intent model
    # learns from them what a question is not.
    not_questions: tuple[str, ...] = ()
    # The same by the shape of the line they fit (question | remark): style -> shape -> replies, and
    # topic -> style -> shape -> answers.
    fallback_shapes: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    topic_shapes: dict[str, dict[str, dict[str, tuple[str, ...]]]] = field(default_factory=dict)

    def fallbacks_for(self, style: str, question: bool) -> tuple[str, ...]:
        """The general replies of `style` for a line that asks something (`question`) or only remarks."""
        return _of_shape(self.fallback_shapes.get(style), question) or self.fallbacks.get(style, ())

    def topic_answers_for(self, topic: str, style: str, question: bool) -> tuple[str, ...]:
        """The answers of `topic` in `style` that fit a line of that shape."""
        return (_of_shape(self.topic_shapes.get(topic, {}).get(style), question)
                or self.topic_answers.get(topic, {}).get(style, ()))

    def by_topic(self, topic: str) -> list[Item]:
        return [i for i in self.items.values() if i.topic == topic]

    def phrasings(self) -> list[tuple[str, str, str]]:
        """(item id, topic, question) for every phrasing, in corpus order."""
        return [(i.id, i.topic, q) for i in self.items.values() for q in i.questions]


class CorpusError(ValueError):
    pass


def _as_strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v).strip() for v in value if v is not None and str(v).strip())


def read_item_file(path: Path) -> list[dict]:
    """Raw entries of one data/qa/*.yaml file (a top-level list)."""
    raw = read_yaml(path) or []
    if not isinstance(raw, list):
        raise CorpusError(f"{path}: expected a top-level list of items")
    return raw


def item_files(corpus_dirs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for d in corpus_dirs:
        d = Path(d)
        files.extend(sorted(d.glob("*.yaml")) if d.is_dir() else [d])
    return files


def read_topic_file(path: Path) -> dict:
    """One data/topics/<topic>.yaml: {topic: id, answers: {style: [...]}}."""
    raw = read_yaml(path) or {}
    if not isinstance(raw, dict) or not isinstance(raw.get("answers"), dict):
        raise CorpusError(f"{path}: expected a mapping with `topic` and `answers`")
    return raw


def load_topic_answers(topics_dir: Path | None) -> dict[str, dict[str, dict[str, tuple[str, ...]]]]:
    """topic -> style -> shape -> answers, from data/topics/."""
    out: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {}
    if topics_dir is None or not Path(topics_dir).is_dir():
        return out
    for path in sorted(Path(topics_dir).glob("*.yaml")):
        raw = read_topic_file(path)
        topic = str(raw.get("topic") or path.stem)
        out[topic] = {str(s): shaped(a) for s, a in raw["answers"].items()}
    return out


def read_not_questions(path: Path | None) -> tuple[str, ...]:
    if path is None or not Path(path).is_file():
        return ()
    raw = read_yaml(path) or []
    if not isinstance(raw, list):
        raise CorpusError(f"{path}: expected a list of chat lines")
    return _as_strings(raw)


def load_corpus(qa_dirs: list[Path], fallbacks_path: Path, topics_dir: Path | None = None,
                not_questions: Path | None = None) -> Corpus:
    """Load items from every qa directory (or file), the topic answers, the fallbacks and the chat lines."""
    items: dict[str, Item] = {}
    for path in item_files(qa_dirs):
        for n, entry in enumerate(read_item_file(path), 1):
            if not isinstance(entry, dict) or "id" not in entry:
                raise CorpusError(f"{path}: entry #{n} is not an item with an id")
            answers = entry.get("answers") or {}
            item = Item(
                id=str(entry["id"]),
                topic=str(entry.get("topic", "")),
                questions=_as_strings(entry.get("questions")),
                answers={str(s): _as_strings(a) for s, a in answers.items()} if isinstance(answers, dict) else {},
                source=path,
            )
            if item.id in items:
                raise CorpusError(f"{path}: item {item.id!r} duplicates one in {items[item.id].source}")
            if not item.questions:
                raise CorpusError(f"{path}: item {item.id!r} has no questions")
            items[item.id] = item
    raw_fb = read_yaml(fallbacks_path) or {}
    if not isinstance(raw_fb, dict):
        raise CorpusError(f"{fallbacks_path}: expected a mapping from style id to a list of replies")
    shapes = {str(style): shaped(value) for style, value in raw_fb.items()}
    topics = load_topic_answers(topics_dir)
    return Corpus(items=items, fallbacks={s: every_shape(v) for s, v in shapes.items()},
                  topic_answers={t: {s: every_shape(v) for s, v in by_style.items()} for t, by_style in topics.items()},
                  not_questions=read_not_questions(not_questions), fallback_shapes=shapes, topic_shapes=topics)


def shaped(value: object) -> dict[str, tuple[str, ...]]:
    """One style's replies in fallbacks.yaml or a topic file: a list (fits any line) or
    {question: [...], remark: [...]}."""
    if isinstance(value, dict):
        return {shape: _as_strings(value.get(shape)) for shape in SHAPES}
    texts = _as_strings(value)
    return {shape: texts for shape in SHAPES}


def every_shape(shapes: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for texts in shapes.values() for t in texts))


def _of_shape(shapes: dict[str, tuple[str, ...]] | None, question: bool) -> tuple[str, ...]:
    return shapes.get(SHAPES[0] if question else SHAPES[1], ()) if shapes else ()
