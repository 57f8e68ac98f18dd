"""Reading the YAML of data/ and config.yaml: libyaml's C parser where PyYAML has it (its wheels do).

The pure-Python parser takes over a second for the corpus's 2 MB of YAML, read on every start; libyaml
about a tenth of that, with the same result (safe loading either way).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> Any:
    """The file's YAML as plain Python values (None for an empty file)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
