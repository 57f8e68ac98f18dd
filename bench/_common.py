"""Helpers the benchmark scripts share."""

from __future__ import annotations

import os
import platform


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
            f"load average {load:.1f} at start")
