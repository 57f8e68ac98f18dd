"""Checking a platform's JSON against the types it documents, for the fields the adapters read: the
platform libraries (python-telegram-bot, discord.py) accept some payloads of the wrong shape and raise later,
in our handlers. A shape: a type, [shape] for a list of them, or {name: (shape, required)} for an object.
"""

from __future__ import annotations

from typing import Any


def shape_problem(value: Any, shape: Any, where: str) -> str | None:
    """What in `value` does not fit `shape` (a type, [shape] for a list, or a SHAPES-like dict); None if it fits."""
    if isinstance(shape, type):
        fits = isinstance(value, shape) and not (shape is int and isinstance(value, bool))
        return None if fits else f"{where} is not {shape.__name__}"
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} is not a list"
        return next((p for n, item in enumerate(value) if (p := shape_problem(item, shape[0], f"{where}[{n}]"))), None)
    if not isinstance(value, dict):
        return f"{where} is not an object"
    for key, (inner, required) in shape.items():
        if value.get(key) is None:  # a null counts as absent, as both libraries read it
            if required:
                return f"{where}.{key} is missing"
            continue
        problem = shape_problem(value[key], inner, f"{where}.{key}")
        if problem:
            return problem
    return None
