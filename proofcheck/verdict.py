"""Verdicts: the five answers and how they combine (docs/language.md, "Verdicts")."""
from __future__ import annotations

from dataclasses import dataclass, field

PROVED, CHECKED, REFUTED, UNKNOWN, ERROR = "proved", "checked", "refuted", "unknown", "error"
ORDER = {ERROR: 0, REFUTED: 1, UNKNOWN: 2, CHECKED: 3, PROVED: 4}
MARKS = {PROVED: "✓", CHECKED: "≈", REFUTED: "✗", UNKNOWN: "?", ERROR: "!"}


@dataclass(slots=True)
class Verdict:
    status: str
    method: str = ""
    message: str = ""
    counterexample: dict | None = None  # name -> exact value as text
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)


def weakest(statuses) -> str:
    statuses = list(statuses)
    if not statuses:
        return PROVED
    return min(statuses, key=ORDER.__getitem__)


def passes(status: str, strict: bool) -> bool:
    return status == PROVED or (status == CHECKED and not strict)


def follows_message(names) -> str:
    """The suggestion for a step that holds once facts in scope are cited."""
    listed = ", ".join(f"`{n}`" for n in names)
    return (f"not proved from what is cited, but proved once {listed} is added: cite it with "
            f"`by {', '.join(names)}`")
