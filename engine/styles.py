"""Answer styles, defined in data/styles.yaml rather than in code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.yaml_files import read_yaml


@dataclass(frozen=True)
class Style:
    id: str
    command: str
    label_zh: str
    label_en: str
    emoji: str
    instruction: str

    def label(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" else self.label_zh


class StyleError(ValueError):
    pass


def load_styles(path: Path) -> dict[str, Style]:
    """Every style defined in the file, in file order."""
    raw = read_yaml(path)
    if not isinstance(raw, list):
        raise StyleError(f"{path}: expected a list of styles")
    styles: dict[str, Style] = {}
    for n, entry in enumerate(raw, 1):
        try:
            style = Style(**{k: str(entry[k]).strip() for k in Style.__dataclass_fields__})
        except (KeyError, TypeError) as e:
            raise StyleError(f"{path}: style #{n} lacks field {e}") from None
        if style.id in styles:
            raise StyleError(f"{path}: style {style.id!r} defined twice")
        styles[style.id] = style
    return styles


def enabled_styles(all_styles: dict[str, Style], enabled: list[str]) -> dict[str, Style]:
    """The enabled styles in the order the config lists them; unknown ids are an error."""
    unknown = [s for s in enabled if s not in all_styles]
    if unknown:
        raise StyleError(f"styles.enabled names unknown style(s) {unknown}; defined: {list(all_styles)}")
    if not enabled:
        raise StyleError("styles.enabled must name at least one style")
    return {s: all_styles[s] for s in enabled}
