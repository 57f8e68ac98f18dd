"""Make `bot` and `engine` mean this project's packages, even inside a NoneBot2 project.

A NoneBot project conventionally has a `bot.py` at its root, and its root comes first on sys.path (it is the
directory of the script `python bot.py` runs). There `import bot` finds that file, not our `bot` package,
and every `from bot.app import BotApp` in this project would fail. So before the plugin imports anything of
ours, each of our top-level packages that another module would shadow is loaded from its own directory (the
one beside `adapters/`) and registered under its name; imports of its submodules then follow its __path__.
This module imports nothing of ours itself.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the directory holding adapters/, bot/ and engine/
OURS = ("bot", "engine")


def _is_ours(origin: str | None, name: str) -> bool:
    return origin is not None and Path(origin).resolve() == (ROOT / name / "__init__.py").resolve()


def ensure_ours() -> None:
    """Register our packages under their names where something else would be found first."""
    for name in OURS:
        loaded = sys.modules.get(name)
        if loaded is not None:
            if _is_ours(getattr(loaded, "__file__", None), name):
                continue
            raise ImportError(
                f"SpringFestQA needs the module name {name!r}, but {loaded!r} is already imported under it. "
                f"Load the plugin before anything imports that module, or rename it."
            )
        found = importlib.util.find_spec(name)  # finds without executing (never runs the project's bot.py)
        if found is not None and _is_ours(found.origin, name):
            continue  # a plain import will find ours
        init = ROOT / name / "__init__.py"
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
        if spec is None or spec.loader is None:  # pragma: no cover - our own files are missing
            raise ImportError(f"SpringFestQA's {name!r} package is missing at {init.parent}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
