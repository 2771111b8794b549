"""What a run did, counted as it goes: for the run's summary, its log and its report."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from transforms.records import Article


@dataclass
class RunTotals:
    """What the run did, for the summary and the report."""

    files: int = 0
    skipped_unchanged: int = 0
    unchanged_content: int = 0
    read: int = 0
    written: int = 0
    quarantined: int = 0
    already_stored: int = 0
    exact_duplicates: int = 0  # of already_stored: a new input whose normalized body is stored already
    reasons: Counter = field(default_factory=Counter)
    rule_failures: Counter = field(default_factory=Counter)
    per_site: Counter = field(default_factory=Counter)
    chrome_rules: Counter = field(default_factory=Counter)
    entities: Counter = field(default_factory=Counter)
    rewrites: Counter = field(default_factory=Counter)
    input_bytes: int = 0
    stage_seconds: Counter = field(default_factory=Counter)

    @contextmanager
    def timed(self, stage: str, into: dict[str, float] | None = None) -> Iterator[None]:
        """Wall time of the block added to the run's ``stage`` seconds (and to ``into[stage]``, for one commit's log)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.stage_seconds[stage] += seconds
            if into is not None:
                into[stage] = into.get(stage, 0.0) + seconds

    def add_batch(self, good: list[dict], bad: list[dict], failures: dict, articles: list[Article]) -> None:
        self.written += len(good)
        self.quarantined += len(bad)
        self.rule_failures.update(failures)
        for row in bad:
            self.reasons.update(row["reasons"])
        for row in good:
            self.per_site[row["site"] or "(unknown)"] += 1
            self.chrome_rules.update(row["chrome"].rules)
            self.entities.update({(e["name"], e["kind"]): e["mentions"] for e in row["entities"]})
        for article in articles:
            self.rewrites.update({(variant, canonical): n for variant, canonical, n in article.rewrites})

    def summary(self, *, run_id: str, out: str, sources: list[str], ingested_at: datetime, seconds: float,
                full: bool, recovered: list[str]) -> dict:
        return {
            "run_id": run_id, "out": out, "sources": [str(s) for s in sources], "full": full,
            "files": self.files, "skipped_unchanged": self.skipped_unchanged,
            "unchanged_content": self.unchanged_content, "read": self.read, "written": self.written,
            "quarantined": self.quarantined, "already_stored": self.already_stored,
            "exact_duplicates": self.exact_duplicates,
            "quarantine_reasons": dict(self.reasons.most_common()), "rule_failures": dict(self.rule_failures.most_common()),
            "per_site": dict(self.per_site.most_common()), "chrome_rules": dict(self.chrome_rules.most_common()),
            "rewrites": [{"variant": v, "canonical": c, "count": n} for (v, c), n in self.rewrites.most_common()],
            "top_entities": [{"name": n, "kind": k, "mentions": m} for (n, k), m in self.entities.most_common(25)],
            "input_bytes": self.input_bytes, "recovered": recovered,
            "stage_seconds": {stage: round(value, 2) for stage, value in self.stage_seconds.items()}, "seconds": round(seconds, 2), "ingested_at": ingested_at.isoformat(),
        }
