"""What checking a file produces: a result per item (claim, theorem, …) with a
verdict per step, and the options it was checked with.

Plain data with no SymPy inside once a file is settled, so that reporters, and a
file answered whole from the cache, never load the checker. `to_json` and
`from_json` store a settled FileResult (cache.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .span import Span
from .verdict import PROVED, Verdict


@dataclass
class Options:
    timeout: float = 5.0
    seed: int = 0
    strict: bool = False
    jobs: int | None = None


@dataclass(slots=True)
class StepResult:
    span: Span
    relation: str
    lhs: str
    rhs: str
    hints: list
    verdict: Verdict | None = None
    task: int | None = None
    cited: list = field(default_factory=list)      # the Fact objects cited


@dataclass(slots=True)
class ItemResult:
    kind: str                    # claim, have, theorem, assume, declaration, syntax
    name: str | None
    span: Span
    text: str
    steps: list = field(default_factory=list)
    status: str = PROVED
    message: str = ""
    method: str = ""
    points: Fraction | None = None
    own: Verdict | None = None   # a verdict for the item itself (errors, chain check, no proof)
    parts: list = field(default_factory=list)  # other items whose verdicts count (haves)
    match_tasks: list = field(default_factory=list)
    match_info: dict = field(default_factory=dict)
    domain_tasks: list = field(default_factory=list)  # theorems: is the statement defined everywhere?


@dataclass
class FileResult:
    path: str
    items: list
    seconds: float = 0.0
    status: str = PROVED
    lines: list = field(default_factory=list)
    doc: object = None  # the parsed document (syntax.Document), for readers that need the tree
    cached: bool = False  # read whole from the verdict cache (the file is unchanged since a run that stored it)


# --------------------------------------------------------- stored whole (cache)
# fields that only serve settling a file (SymPy facts, task numbers) are not kept
_DROPPED = {"cited", "task", "match_tasks", "domain_tasks"}
_CLASSES = {"Span": Span, "Verdict": Verdict, "StepResult": StepResult, "ItemResult": ItemResult}


class NotStorable(Exception):
    """A result holding something other than plain data: it is not stored."""


def to_json(result: FileResult) -> dict:
    """A settled FileResult as JSON-ready data (without its path, lines and tree).
    Items shared between lists (a `have` is an item and a part of its theorem) are
    written once and referred to by number. Raises NotStorable."""
    table: list = []
    numbers: dict = {}

    def item_ref(item) -> int:
        if id(item) not in numbers:
            numbers[id(item)] = len(table)
            table.append(None)
            table[numbers[id(item)]] = value(item, top=True)
        return numbers[id(item)]

    def value(x, top=False):
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, Fraction):
            return {"$fraction": str(x)}
        if isinstance(x, ItemResult) and not top:
            return {"$item": item_ref(x)}
        name = type(x).__name__
        if _CLASSES.get(name) is type(x):
            fields = {f: value(getattr(x, f)) for f in x.__dataclass_fields__ if f not in _DROPPED}
            if name == "Verdict":
                fields["seconds"] = 0.0  # time spent in the run that stored it, not in the one that reads it
            return {"$": name, **fields}
        if isinstance(x, (list, tuple)):
            return [value(v) for v in x]
        if isinstance(x, dict) and all(isinstance(k, str) and not k.startswith("$") for k in x):
            return {k: value(v) for k, v in x.items()}
        raise NotStorable(type(x).__name__)

    items = [item_ref(it) for it in result.items]
    return {"items": items, "table": table, "seconds": result.seconds, "status": result.status}


def from_json(data: dict, path: str, text: str) -> FileResult:
    """The FileResult that to_json wrote, for the file at `path` with `text`."""
    table = data["table"]
    built: dict = {}

    def item(n: int):
        if n not in built:
            built[n] = None  # a cycle cannot be written by to_json; guard anyway
            built[n] = value(table[n])
        return built[n]

    def value(x):
        if isinstance(x, list):
            return [value(v) for v in x]
        if not isinstance(x, dict):
            return x
        if "$fraction" in x:
            return Fraction(x["$fraction"])
        if "$item" in x:
            return item(x["$item"])
        if "$" in x:
            cls = _CLASSES[x["$"]]
            return cls(**{k: value(v) for k, v in x.items() if k != "$"})
        return {k: value(v) for k, v in x.items()}

    items = [item(n) for n in data["items"]]
    return FileResult(path, items, 0.0, data["status"], text.split("\n"), cached=True)


def machine_dependent(result: FileResult) -> bool:
    """True when some verdict of the file came from a limit of this machine or run
    (time, memory, a crash): such a result is never stored."""
    seen: set = set()

    def bad(item) -> bool:
        if id(item) in seen:
            return False
        seen.add(id(item))
        verdicts = [item.own] + [st.verdict for st in item.steps]
        if any(v is not None and v.method in ("limits", "internal") for v in verdicts):
            return True
        return any(bad(p) for p in item.parts)

    return any(bad(it) for it in result.items)
