"""What the articles suite is made of and what it says: rules, their severities, the reference data they
need, and the verdict of a validation run on each row."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

CRITICAL = "critical"  # a row failing it goes to quarantine
WARNING = "warning"  # a row failing it is kept; the failure is counted and named in its ``warnings``


@dataclass(frozen=True)
class Rule:
    """One check with the name shown in quarantine reasons, its severity and the table fields it checks.

    A rule is either a GX expectation on one of the articles table's own columns (``expectation``), saved
    in the suite and shown in Data Docs, or a plain Python check (``check``: the row labels that fail) with
    ``python_because`` saying why GX cannot express it on the table's columns.
    """

    name: str
    severity: str
    expectation: object | None
    fields: tuple[str, ...] = ()
    check: Callable[[pd.DataFrame], tuple[list, list]] | None = None  # labels failing, labels it raised on
    python_because: str = ""

    @property
    def checked_by(self) -> str:
        return "Great Expectations" if self.expectation is not None else f"Python: {self.python_because}"


@dataclass(frozen=True)
class SuiteInputs:
    """Reference data the suite needs, derived from seeds/ by the flow."""

    chrome_residue: Sequence[str] = ()  # regexes that must not match anywhere in `body`
    alias_variants: Sequence[str] = ()  # non-canonical spellings that must not remain in `body_normalized`


@dataclass(frozen=True)
class Verdict:
    """The suite's verdict on one article: the critical rules it failed (it goes to quarantine with their names)
    and the warning rules it failed (it is written, with their names in ``warnings``)."""

    critical: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.critical


@dataclass
class SuiteResult:
    """One validation run: a verdict per row (:attr:`verdicts`, in the rows' order), failures per rule.

    ``critical`` and ``warnings`` hold the failures by row label, as GX reports them.
    """

    critical: dict[int, list[str]] = field(default_factory=dict)
    warnings: dict[int, list[str]] = field(default_factory=dict)
    rule_failures: dict[str, int] = field(default_factory=dict)
    success: bool = True
    rows: int = 0  # rows validated, labelled 0..rows-1

    def add(self, name: str, severity: str, rows: Iterable) -> None:
        """Rows (labels) that failed the rule ``name``."""
        target = self.critical if severity == CRITICAL else self.warnings
        labels = list(dict.fromkeys(int(label) for label in rows))
        for label in labels:
            target.setdefault(label, []).append(name)
        self.rule_failures[name] = self.rule_failures.get(name, 0) + len(labels)

    @property
    def verdicts(self) -> list[Verdict]:
        """One verdict per row validated, in order.

        >>> result = SuiteResult(rows=2)
        >>> result.add("body_length", CRITICAL, [1]); result.add("title_present", WARNING, [0, 1])
        >>> result.verdicts
        [Verdict(critical=(), warnings=('title_present',)), Verdict(critical=('body_length',), warnings=('title_present',))]
        """
        return [Verdict(tuple(self.critical.get(row, ())), tuple(self.warnings.get(row, ()))) for row in range(self.rows)]
