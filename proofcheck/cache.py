"""The verdict cache: a step decided once is not decided again.

A task's key is a hash of everything its verdict depends on: the step's
expressions, relation, conditions, premises, cited facts and facts in scope (for
suggestions), the seed of its random points, and the version of proofcheck
(its number and a hash of its own source files, so that a changed checker never
reads an old verdict). Positions are not part of the key, so thirty students who
write the same step share one decision, and the seed of a step's random points
is derived from its content for the same reason (`content_seed`).

A whole file is stored too, settled, under a hash of its text, the options that
change verdicts (time limit, seed) and the checker's version: a second run of an
unchanged file reads its report without parsing it or loading SymPy.

Verdicts that depend on the machine (`unknown` because the time limit ran out, a
crash of the checker) are never stored, nor is a file that has one. Storage is
one SQLite file, `.proofcheck-cache/verdicts.sqlite3` in the working directory by
default.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sqlite3
import zlib
from fractions import Fraction
from pathlib import Path

from .verdict import Verdict

DEFAULT_DIR = ".proofcheck-cache"
_UNCACHED_METHODS = {"limits", "internal"}
_SKIP_FIELDS = {"span", "line", "seed", "timeout", "lhs_text", "rhs_text", "text"}
_DUMMY = re.compile(r"dummy_index=(\d+)")
_version: str | None = None


def checker_version() -> str:
    """proofcheck's version number and a hash of its source: any change to the
    checker invalidates every cached verdict."""
    global _version
    if _version is None:
        from . import __version__
        h = hashlib.sha256(__version__.encode())
        root = Path(__file__).resolve().parent
        for f in sorted(list(root.rglob("*.py")) + list(root.rglob("*.lark")) +
                        list(root.parent.joinpath("grammar").glob("*.lark"))):
            try:
                h.update(f.name.encode())
                h.update(f.read_bytes())
            except OSError:
                continue
        _version = f"{__version__}+{h.hexdigest()[:16]}"
    return _version


def _text(obj, memo: dict, skip=frozenset()) -> str:
    import sympy as sp  # here, not at the top: a file answered whole from the cache never needs SymPy
    if isinstance(obj, sp.Basic):
        exprs = memo.setdefault("sympy", {})  # equal expressions (a claim written 1,000 times) print once
        text = exprs.get(obj)
        if text is None:
            text = exprs[obj] = sp.srepr(obj)
        return text
    if isinstance(obj, Verdict):  # a first-pass verdict inside a suggestion task: not its time
        return f"Verdict({obj.status!r},{obj.method!r},{obj.message!r},{_text(obj.counterexample, memo)}," \
               f"{_text(obj.detail, memo)})"
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        key = id(obj)
        if key in memo and not skip:  # facts are shared by many tasks of a file: print each once
            return memo[key][1]
        inner = ",".join(f"{f.name}={_text(getattr(obj, f.name), memo)}" for f in dataclasses.fields(obj)
                         if f.name not in _SKIP_FIELDS and f.name not in skip)
        out = f"{type(obj).__name__}({inner})"
        if not skip:
            memo[key] = (obj, out)  # keep obj alive, so that its id is not reused
        return out
    if isinstance(obj, dict):
        return "{" + ",".join(sorted(f"{_text(k, memo)}:{_text(v, memo)}" for k, v in obj.items())) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_text(x, memo) for x in obj) + "]"
    if isinstance(obj, Fraction):
        return str(obj)
    return repr(obj)


def canonical(task, memo: dict | None = None, skip=frozenset()) -> str:
    """The task as text, without positions, with SymPy's Dummy symbols numbered in
    the order they appear (their own numbers depend on the run). `memo` may be
    shared by the tasks of one file, but not across tasks whose objects change.
    `skip`: fields of the task itself left out (the task is then not memoised)."""
    raw = _text(task, {} if memo is None else memo, frozenset(skip))
    order: dict = {}
    return _DUMMY.sub(lambda m: f"dummy_index={order.setdefault(m.group(1), len(order))}", raw)


def content_seed(base_seed: int, canonical_text: str) -> int:
    return zlib.crc32(f"{base_seed}:{canonical_text}".encode())


def task_key(canonical_text: str, seed: int) -> str:
    return hashlib.sha256(f"{checker_version()}\n{seed}\n{canonical_text}".encode()).hexdigest()


# ------------------------------------------------------------- (de)serialise
def _to_json(v: Verdict) -> dict:
    detail = {}
    for k, x in v.detail.items():
        detail[k] = {"__verdict__": _to_json(x)} if isinstance(x, Verdict) else x
    return {"status": v.status, "method": v.method, "message": v.message,
            "counterexample": v.counterexample, "seconds": v.seconds, "detail": detail}


def _from_json(d: dict) -> Verdict:
    detail = {k: (_from_json(x["__verdict__"]) if isinstance(x, dict) and "__verdict__" in x else x)
              for k, x in d.get("detail", {}).items()}
    return Verdict(d["status"], d["method"], d["message"], d.get("counterexample"), d.get("seconds", 0.0), detail)


def cacheable(v: Verdict) -> bool:
    return v is not None and v.method not in _UNCACHED_METHODS


class VerdictCache:
    """A persistent map from task keys to verdicts (SQLite)."""

    def __init__(self, directory: str | Path = DEFAULT_DIR):
        self.path = Path(directory) / "verdicts.sqlite3"
        self.db = None
        self.hits = 0
        self.misses = 0

    def _open(self):
        if self.db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, verdict TEXT NOT NULL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, result BLOB NOT NULL)")
        return self.db

    # -- whole files
    @staticmethod
    def file_key(text: str, options) -> str:
        return hashlib.sha256(f"file\n{checker_version()}\n{options.timeout!r}\n{options.seed}\n{text}"
                              .encode("utf-8", "surrogatepass")).hexdigest()

    def get_file(self, path: str, text: str, options):
        """The stored FileResult of this text, or None."""
        from .results import from_json
        try:
            row = self._open().execute("SELECT result FROM files WHERE key = ?",
                                       (self.file_key(text, options),)).fetchone()
            if row is None:
                return None
            return from_json(json.loads(zlib.decompress(row[0])), path, text)
        except Exception:  # noqa: BLE001 - any unreadable or malformed entry is a missing one
            return None

    def put_file(self, text: str, options, result) -> None:
        """Store a settled FileResult, unless a verdict in it depends on this run."""
        from .results import NotStorable, machine_dependent, to_json
        if machine_dependent(result):
            return
        try:
            blob = zlib.compress(json.dumps(to_json(result), separators=(",", ":")).encode(), 6)
            db = self._open()
            with db:
                db.execute("INSERT OR REPLACE INTO files (key, result) VALUES (?, ?)",
                           (self.file_key(text, options), blob))
        except (NotStorable, sqlite3.Error, OSError, TypeError, ValueError):
            pass

    def get_many(self, keys) -> dict:
        keys = list(dict.fromkeys(keys))
        out = {}
        try:
            db = self._open()
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for k, v in db.execute(f"SELECT key, verdict FROM verdicts WHERE key IN ({marks})", chunk):
                    out[k] = _from_json(json.loads(v))
        except (sqlite3.Error, OSError, ValueError, KeyError):
            return {}  # an unreadable cache is an empty one
        return out

    def put_many(self, pairs) -> None:
        rows = [(k, json.dumps(_to_json(v))) for k, v in pairs if cacheable(v)]
        if not rows:
            return
        try:
            db = self._open()
            with db:
                db.executemany("INSERT OR REPLACE INTO verdicts (key, verdict) VALUES (?, ?)", rows)
        except (sqlite3.Error, OSError):
            pass  # a cache that cannot be written only costs time

    def close(self):
        if self.db is not None:
            self.db.close()
            self.db = None


def decide_with_cache(tasks, keys, runner, timeout, cache: VerdictCache | None, on_result=None,
                      sent=None) -> list:
    """Results for `tasks`: from the cache where present, identical tasks decided once,
    the rest by the runner; new verdicts are stored. `sent(task)`: what is sent to the
    runner for a task that must be decided (made only for those)."""
    results = [None] * len(tasks)
    known = cache.get_many(keys) if cache is not None else {}
    known = {k: dataclasses.replace(v, seconds=0.0) for k, v in known.items()}
    first: dict = {}      # key -> index of the task that will be decided
    todo = []
    for i, k in enumerate(keys):
        if k in known:
            results[i] = known[k]  # shared by equal steps: verdicts are not changed after this
            if cache is not None:
                cache.hits += 1
        elif k in first:
            continue
        else:
            first[k] = i
            todo.append(i)
            if cache is not None:
                cache.misses += 1
    if todo:
        answers = runner.run([tasks[i] if sent is None else sent(tasks[i]) for i in todo], timeout)
        for i, v in zip(todo, answers):
            results[i] = v
        if cache is not None:
            cache.put_many((keys[i], results[i]) for i in todo)
    for i, k in enumerate(keys):
        if results[i] is None:  # a duplicate of a task decided in this run: one verdict object
            results[i] = results[first[k]]
    if on_result:
        for i, v in enumerate(results):
            on_result(i, v)
    return results
