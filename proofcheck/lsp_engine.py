"""The checking side of the language server: verdicts that stream in, step by step.

`proofcheck lsp` (lsp.py) speaks the protocol on one thread; this module does the
work on the main thread (so that reading a statement keeps the command line's
time limit, budget.wall_limit, which needs the main thread) and in worker
processes:

- `Pool` runs decision tasks on a few `runner.Runner`s, one task at a time each,
  so that results arrive one by one (a slow step holds one worker, never the
  others), identical tasks (same content key) are decided once even across
  versions of a document, and a task nobody waits for any more is dropped (or
  its worker killed, if it is running).
- `MemoryCache` keeps verdicts by the same content keys as the command line's
  verdict cache (`check.task_keys`), and reads and writes that cache too when its
  folder exists: after an edit only the changed steps are decided again.
- `Check` is one check of one version of one document: parse and elaborate
  (`check.FileChecker`), the two passes of `check.decide_tasks` done per task as
  results arrive, provisional diagnostics per decided step, and the settled ones
  (`FileChecker.finish`) when every task is in.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict, deque
from pathlib import Path

from .check import FIRST_PASS_SKIPS, FileChecker, FileResult, ItemResult, Options, first_pass_task
from .obligations import StepTask
from .verdict import ERROR, PROVED, UNKNOWN, Verdict, weakest

log = logging.getLogger("proofcheck.lsp")

_NO_SECOND_PASS = ("limits", "internal")


# ------------------------------------------------------------------ the pool
def _runner():
    """A one-worker runner whose workers are started by a fork server, not forked
    from this process: the server has threads, and a child forked while another
    thread holds a lock (logging, imports) can hang for ever."""
    import multiprocessing as mp
    from .runner import Runner
    r = Runner(1)
    if "forkserver" in mp.get_all_start_methods():
        mp.set_forkserver_preload(["proofcheck.decide"])
        r.ctx = mp.get_context("forkserver")
    return r


class _Job:
    __slots__ = ("key", "task", "timeout", "subscribers", "runner")

    def __init__(self, key, task, timeout):
        self.key, self.task, self.timeout = key, task, timeout
        self.subscribers: list = []
        self.runner = None   # the runner deciding it, once started


class Pool:
    """Decide tasks on `jobs` single-worker runners; results by callback."""

    def __init__(self, jobs: int = 2, runner_factory=None):
        factory = runner_factory or _runner
        self.cv = threading.Condition()
        self.queue: deque = deque()
        self.jobs: dict = {}
        self.closed = False
        self.runners = [factory() for _ in range(max(1, jobs))]
        self.threads = [threading.Thread(target=self._serve, args=(r,), name=f"proofcheck-pool-{i}", daemon=True)
                        for i, r in enumerate(self.runners)]

    def start(self):
        for t in self.threads:
            t.start()

    def submit(self, key, task, timeout, callback):
        """callback(verdict) is called on a pool thread when the task is decided."""
        with self.cv:
            job = self.jobs.get(key)
            if job is None:
                job = self.jobs[key] = _Job(key, task, timeout)
                self.queue.append(job)
                self.cv.notify()
            job.subscribers.append(callback)

    def unsubscribe(self, key, callback):
        with self.cv:
            job = self.jobs.get(key)
            if job is None or callback not in job.subscribers:
                return
            job.subscribers.remove(callback)
            if job.subscribers:
                return
            del self.jobs[key]
            if job.runner is None:
                try:
                    self.queue.remove(job)
                except ValueError:
                    pass
            else:
                # running, and nobody waits for it: free the worker now
                for w in list(job.runner.workers):
                    try:
                        w.process.kill()
                    except Exception:  # noqa: BLE001
                        pass

    def _serve(self, runner):
        while True:
            with self.cv:
                while not self.queue and not self.closed:
                    self.cv.wait()
                if self.closed:
                    return
                job = self.queue.popleft()
                job.runner = runner
            # a worker killed for a cancelled job just after it finished: start afresh
            if any(not w.process.is_alive() for w in runner.workers):
                runner.close()
            try:
                verdict = runner.run([job.task], job.timeout)[0]
            except Exception as exc:  # noqa: BLE001 - a pool thread must not die
                log.exception("runner failed")
                verdict = Verdict(UNKNOWN, "internal", f"the checker hit a problem of its own ({type(exc).__name__})")
            with self.cv:
                job.runner = None
                if self.jobs.get(job.key) is job:
                    del self.jobs[job.key]
                    subscribers = list(job.subscribers)
                else:
                    subscribers = []   # cancelled while it ran
            for cb in subscribers:
                try:
                    cb(verdict)
                except Exception:  # noqa: BLE001
                    log.exception("result callback failed")

    def close(self):
        with self.cv:
            self.closed = True
            running = [j for j in self.jobs.values() if j.runner is not None]
            self.jobs.clear()
            self.queue.clear()
            self.cv.notify_all()
        for j in running:
            for w in list(j.runner.workers):
                try:
                    w.process.kill()
                except Exception:  # noqa: BLE001
                    pass
        for t in self.threads:
            t.join(2)
        for r in self.runners:
            try:
                r.close()
            except Exception:  # noqa: BLE001
                pass


# ------------------------------------------------------------------ the cache
class MemoryCache:
    """Verdicts by content key: in memory, and in the command line's verdict cache
    (`.proofcheck-cache/` in the workspace folder) when that folder exists."""

    def __init__(self, folder: str | Path | None = None, limit: int = 50000):
        from .cache import DEFAULT_DIR, VerdictCache
        self.memory: OrderedDict = OrderedDict()
        self.limit = limit
        self.disk = None
        if folder is not None:
            d = Path(folder) / DEFAULT_DIR
            if d.is_dir():
                self.disk = VerdictCache(d)
        self.lock = threading.Lock()

    def get_many(self, keys) -> dict:
        out = {}
        with self.lock:
            for k in keys:
                v = self.memory.get(k)
                if v is not None:
                    self.memory.move_to_end(k)
                    out[k] = v
        missing = [k for k in keys if k not in out]
        if missing and self.disk is not None:
            found = self.disk.get_many(missing)
            with self.lock:
                for k, v in found.items():
                    self.memory[k] = v
            out.update(found)
        return out

    def put(self, key, verdict):
        from .cache import cacheable
        if not cacheable(verdict):
            return
        with self.lock:
            self.memory[key] = verdict
            while len(self.memory) > self.limit:
                self.memory.popitem(last=False)
        if self.disk is not None:
            self.disk.put_many([(key, verdict)])

    def close(self):
        if self.disk is not None:
            self.disk.close()


# ------------------------------------------------------------------ keys
class Keys:
    """`check.task_keys`, with the text of each SymPy expression remembered across
    checks: after an edit, the expressions of the unchanged steps are equal (not
    identical) objects, and printing them again (`srepr`) is most of the cost of
    keying a file. The same function makes the keys, so they are the command
    line's (tests/test_lsp.py compares them)."""

    def __init__(self, limit: int = 200000):
        self.memo: dict = {}   # expression -> its text, kept between checks
        self.limit = limit

    def task_keys(self, tasks, base_seed: int, skip=()) -> list:
        from .check import task_keys
        if len(self.memo) >= self.limit:
            self.memo.clear()
        return task_keys(tasks, base_seed, skip, memo={"sympy": self.memo})


KEYS = Keys()


def _copy(v: Verdict) -> Verdict:
    return dataclasses.replace(v, detail=dict(v.detail))


# ------------------------------------------------------------------ one check
def _diagnostic(span, status, message, method):
    from .report_json import _diagnostic as make
    d = make(span, status, message, method)
    d["message"] = _clean(d["message"])
    return d


def _clean(text: str) -> str:
    """Text that can be written as UTF-8 (a document may hold lone surrogates)."""
    return text.encode("utf-8", "replace").decode("utf-8")


class Check:
    """One check of one version of a document. Runs on the engine's thread; the
    pool's callbacks only post results to the engine's inbox."""

    def __init__(self, uri, version, text, path, options: Options, pool: Pool, cache: MemoryCache, post):
        self.uri, self.version, self.text, self.path = uri, version, text, path
        self.options, self.pool, self.cache, self.post = options, pool, cache, post
        self.started = time.monotonic()
        self.doc = None
        self.checker = None
        self.tasks: list = []
        self.results: list = []
        self.done: list = []
        self.cached: set = set()
        self.waiting: dict = {}   # key -> callback, for unsubscribing
        self.cancelled = False
        self.finished = False
        self.failed = None        # an ItemResult, when the file could not be checked at all
        self.items: list = []     # settled items, when finished
        self.dirty = True

    # -- start: parse, elaborate, look up, submit
    def start(self):
        from .parse import parse_document
        try:
            self.doc = parse_document(self.text, self.path)
            self.checker = FileChecker(self.doc, self.options)
            self.checker.build()
            self.tasks = self.checker.tasks
            keys = KEYS.task_keys(self.tasks, self.options.seed, FIRST_PASS_SKIPS)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - any document: say so on it, never die
            self._fail(exc)
            return
        n = len(self.tasks)
        self.results, self.done = [None] * n, [False] * n
        known = self.cache.get_many(keys)
        for i, k in enumerate(keys):
            if k in known:
                self.cached.add(i)
                self._first(i, _copy(known[k]))
            else:
                self._submit(k, first_pass_task(self.tasks[i]), lambda v, i=i, k=k: self.post(self, "first", i, k, v))
        self._maybe_finish()

    def _fail(self, exc):
        from .syntax import Span
        log.exception("could not check %s", self.uri)
        item = ItemResult("file", None, Span(1, 1, 1, 2), "")
        why = "it took longer than the time limit" if type(exc).__name__ == "OutOfTime" else \
            f"an internal error ({type(exc).__name__}); please report it"
        item.own = Verdict(ERROR, "", f"this file could not be checked: {why}")
        item.status, item.message = ERROR, item.own.message
        self.failed = item
        self.items = [item]
        self.finished = True
        self.dirty = True

    def _submit(self, key, task, cb):
        self.waiting[key] = cb
        self.pool.submit(key, task, self.options.timeout, cb)

    # -- results (engine thread)
    def on_result(self, kind, i, key, v):
        if self.cancelled or self.finished:
            return
        self.waiting.pop(key, None)
        self.cache.put(key, v)
        if kind == "first":
            self._first(i, _copy(v))
        else:
            if v.method not in _NO_SECOND_PASS:
                self.results[i] = _copy(v)
            self.done[i] = True
        self.dirty = True
        self._maybe_finish()

    def _first(self, i, v):
        self.results[i] = v
        t = self.tasks[i]
        if (isinstance(t, StepTask) and t.uncited and v.status != PROVED and v.method not in _NO_SECOND_PASS):
            seed = t.seed
            again = dataclasses.replace(t, suggest_for=v)
            key = KEYS.task_keys([again], self.options.seed)[0]
            again.seed = seed   # task_keys re-derived it; keep the first pass's points
            hit = self.cache.get_many([key]).get(key)
            if hit is not None:
                if hit.method not in _NO_SECOND_PASS:
                    self.results[i] = _copy(hit)
                self.done[i] = True
            else:
                self._submit(key, again, lambda v2, i=i, key=key: self.post(self, "second", i, key, v2))
        else:
            self.done[i] = True

    def _maybe_finish(self):
        if self.finished or not all(self.done):
            return
        try:
            self.checker.finish(self.results)
            self.items = self.checker.items
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
            return
        self.finished = True
        self.dirty = True

    def cancel(self):
        self.cancelled = True
        for key, cb in list(self.waiting.items()):
            self.pool.unsubscribe(key, cb)
        self.waiting.clear()

    # -- what to show
    def pending(self) -> int:
        return sum(1 for d in self.done if not d)

    def diagnostics(self) -> list:
        """LSP diagnostics (dicts, as report_json makes them) for what is known now."""
        if self.failed is not None:
            it = self.failed
            return [_diagnostic(it.span, ERROR, it.own.message, "")]
        if self.checker is None:
            return []
        if self.finished:
            from .report_json import file_document
            fr = FileResult(self.path, self.items, 0.0,
                            weakest(i.status for i in self.items) if self.items else PROVED, [])
            out = file_document(fr)["diagnostics"]
            for d in out:
                d["message"] = _clean(d["message"])
            return out
        out = []
        for item in self.checker.items:
            if item.own is not None and item.own.status == ERROR:
                span = item.match_info.get("error_span", item.span)
                out.append(_diagnostic(span, ERROR, item.own.message, item.own.method))
            for st in item.steps:
                v, more = st.verdict, ""
                if v is None and st.task is not None and self.results[st.task] is not None:
                    # decided; a second pass may still be looking for a fact that proves it
                    v = self.results[st.task]
                    if not self.done[st.task]:
                        more = " (looking for a fact in scope that would prove it…)"
                if v is not None and v.status != PROVED:
                    out.append(_diagnostic(st.span, v.status, f"{v.status}: {v.message or v.status}{more}", v.method))
        return out

    def step_verdict(self, st):
        """The verdict to show for a step: settled when finished, else as decided so far."""
        if st.verdict is not None:
            return st.verdict
        if st.task is not None and self.done and self.done[st.task]:
            return self.results[st.task]
        return None
