"""Imports run one way: adapters -> bot -> engine. engine knows nothing of chats; bot no platform."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "engine": {"bot", "adapters", "telegram", "discord", "gradio"},
    "bot": {"adapters", "telegram", "discord", "gradio"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            roots.add(str(node.args[0].value).split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_one_way_imports(package):
    bad = []
    for path in sorted((REPO / package).rglob("*.py")):
        for root in imported_roots(path) & FORBIDDEN[package]:
            bad.append(f"{path.relative_to(REPO)} imports {root}")
    assert not bad, "\n".join(bad)


SERVING = ("engine/engine.py", "engine/types.py", "engine/normalize.py", "engine/retrieval", "engine/generation",
           "engine/llm")


def test_serving_never_imports_tooling():
    """engine/tooling/ is offline corpus work; the request path must not need it (or what it imports)."""
    bad = []
    for part in SERVING:
        target = REPO / part
        for path in sorted(target.rglob("*.py") if target.is_dir() else [target]):
            for name in imported_modules(path):
                if name == "engine.tooling" or name.startswith("engine.tooling."):
                    bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "\n".join(bad)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_button_payloads_are_opaque_to_adapters():
    """Adapters pass payloads back untouched (BotApp.on_press) or ask by record (restyle/another)."""
    bad = [f"{path.relative_to(REPO)} imports bot.buttons" for path in sorted((REPO / "adapters").rglob("*.py"))
           if any(n == "bot.buttons" or n.startswith("bot.buttons.") for n in imported_modules(path))]
    assert not bad, "\n".join(bad)


def test_the_checker_sees_a_violation(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("import importlib\nfrom adapters.telegram.handlers import x\nimportlib.import_module('discord.ui')\n")
    assert {"adapters", "discord"} <= imported_roots(f)
