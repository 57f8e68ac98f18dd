"""Every Prometheus metric of SpringFestQA, in one place (served at /metrics by adapters/ops_server.py).

They live in prometheus_client's default registry, next to its process metrics (memory, CPU, open files).
The inbox metrics are set by bot.inbox.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ANSWERS = Counter(
    "springfest_answers", "Answers the bot gave, by platform, source (curated, generated, fallback) and style",
    ["platform", "source", "style"])
# Curated answers take milliseconds, generated ones seconds (llm.timeout_s is 20 by default).
ANSWER_SECONDS = Histogram(
    "springfest_answer_seconds", "Seconds from a question reaching the bot layer to its complete answer text "
    "(delivery to the chat not included)", ["platform", "source"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30))
ENGINE_READY = Gauge("springfest_engine_ready", "1 once the corpus and knowledge base are loaded")
PLATFORM_CONNECTED = Gauge(
    "springfest_platform_connected", "1 while the platform is connected (receiving events), else 0", ["platform"])
RATE_LIMITED = Counter(
    "springfest_rate_limited", "429 Too Many Requests answers from the platform's API; each is waited out "
    "and the request sent again", ["platform"])
INBOX_OPEN = Gauge("springfest_inbox_open", "Accepted events not answered yet (the inbox depth)", ["platform"])
REDELIVERED = Counter(
    "springfest_inbox_redelivered", "Events answered after a restart, or recognised as already answered",
    ["platform"])
DROPPED = Counter(
    "springfest_inbox_dropped", "Events never answered, by reason (e.g. older than the answer window)",
    ["platform", "reason"])


def answered(platform: str, source: str, style: str, seconds: float) -> None:
    """Count one complete answer and how long it took."""
    ANSWERS.labels(platform, source, style).inc()
    ANSWER_SECONDS.labels(platform, source).observe(seconds)
