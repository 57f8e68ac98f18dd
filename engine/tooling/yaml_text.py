"""Writing corpus YAML as text: new item files, and one new list entry inside an existing item.

A hand-written corpus file keeps its comments, order and layout: an entry is inserted as one line,
placed and indented from the positions PyYAML reports, and the result must parse to exactly the old
data plus that entry before it replaces the file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml


class _IndentedDumper(yaml.SafeDumper):
    """Indents block lists under their key, as the hand-written corpus files do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def dump_items(items: list[dict], header: str = "") -> str:
    """A data/qa file: an optional comment header, then the items as a top-level block list."""
    body = yaml.dump(items, Dumper=_IndentedDumper, allow_unicode=True, sort_keys=False, width=4096,
                     default_flow_style=False)
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + body


def scalar(text: str, *, flow: bool = False) -> str:
    """`text` as a YAML scalar: plain when that reads back unchanged, else double-quoted."""
    probe = f"[{text}]" if flow else f"- {text}"
    try:
        if yaml.safe_load(probe) == [text] and "#" not in text and text == text.strip():
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


class YamlEditError(ValueError):
    pass


def _mapping_get(node: yaml.MappingNode, key: str):
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None, None


def _find_item(root, item_id: str) -> yaml.MappingNode:
    if not isinstance(root, yaml.SequenceNode):
        raise YamlEditError("expected a top-level list of items")
    for node in root.value:
        if isinstance(node, yaml.MappingNode):
            _, id_node = _mapping_get(node, "id")
            if isinstance(id_node, yaml.ScalarNode) and id_node.value == item_id:
                return node
    raise YamlEditError(f"item {item_id!r} not found")


def _last_line(node) -> int:
    """The last line a node occupies (its end mark may sit at column 0 of the following line)."""
    end = node.end_mark
    return end.line if end.column > 0 else end.line - 1


def _insert_in_sequence(lines: list[str], seq: yaml.SequenceNode, text: str) -> None:
    if seq.flow_style:
        # `[a, b]`: the end mark sits just after the closing bracket.
        row, col = seq.end_mark.line, seq.end_mark.column - 1
        sep = ", " if seq.value else ""
        lines[row] = lines[row][:col] + sep + scalar(text, flow=True) + lines[row][col:]
        return
    last = seq.value[-1]
    line = lines[last.start_mark.line]
    dash_col = len(line[:last.start_mark.column].rstrip()) - 1
    if dash_col < 0 or line[dash_col] != "-":
        raise YamlEditError("cannot find the list's indentation")
    lines.insert(_last_line(last) + 1, " " * dash_col + "- " + scalar(text) + "\n")


def _insert_key(lines: list[str], mapping: yaml.MappingNode, key: str, text: str) -> None:
    """A new `key:` with a one-entry list at the end of a block mapping, indented like its siblings."""
    if mapping.flow_style or not mapping.value:
        raise YamlEditError("cannot add a key to an empty or flow-style mapping; add it by hand")
    first_key, _ = mapping.value[0]
    key_col = first_key.start_mark.column
    dash_col = key_col + 2
    for _, value in mapping.value:  # mimic a sibling list's indentation
        if isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
            dash_col = value.value[0].start_mark.column - 2
            break
    at = _last_line(mapping.value[-1][1]) + 1
    lines[at:at] = [" " * key_col + f"{key}:\n", " " * dash_col + "- " + scalar(text) + "\n"]


def insert_entry(path: Path, item_id: str, keys: tuple[str, ...], text: str) -> None:
    """Add `text` to the list at item[keys[0]][keys[1]]... in a corpus file, leaving all else as is.

    A missing last key is created (e.g. the first humorous answer). Raises YamlEditError, and leaves
    the file untouched, when the edit cannot be made or would not read back exactly.
    """
    path = Path(path)
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    node = _find_item(yaml.compose(original), item_id)
    for n, key in enumerate(keys):
        if not isinstance(node, yaml.MappingNode):
            raise YamlEditError(f"{item_id}: {'.'.join(keys[:n])} is not a mapping")
        _, child = _mapping_get(node, key)
        if child is None and n == len(keys) - 1:
            _insert_key(lines, node, key, text)
            break
        if child is None:
            raise YamlEditError(f"{item_id}: has no {'.'.join(keys[:n + 1])}")
        node = child
    else:
        if not isinstance(node, yaml.SequenceNode):
            raise YamlEditError(f"{item_id}: {'.'.join(keys)} is not a list")
        _insert_in_sequence(lines, node, text)
    updated = "".join(lines)
    _verify(original, updated, item_id, keys, text)
    _replace(path, updated)


def _verify(before: str, after: str, item_id: str, keys: tuple[str, ...], text: str) -> None:
    expected = yaml.safe_load(before)
    target = next(i for i in expected if isinstance(i, dict) and str(i.get("id")) == item_id)
    for key in keys[:-1]:
        target = target[key]
    target.setdefault(keys[-1], [])
    target[keys[-1]] = [*(target[keys[-1]] or []), text]
    try:
        got = yaml.safe_load(after)
    except yaml.YAMLError as e:
        raise YamlEditError(f"the edit would break the file: {e}") from None
    if got != expected:
        raise YamlEditError("the edit would change more than the one entry; add it by hand")


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o7777)  # mkstemp makes it private; keep the file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
