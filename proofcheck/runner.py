"""Run decision tasks in worker processes that can be killed.

SymPy's `simplify` can hang and solvers ignore their own time limits, so every
task runs in a forked worker with a memory limit; a task that runs past its time
limit is answered `unknown` ("time limit: no verdict within N s"), its worker is killed and a
fresh one takes its place. Two workers by default, one per core.
"""
from __future__ import annotations

import gc
import multiprocessing as mp
import os
import time
from collections import deque
from multiprocessing.connection import wait

from .verdict import UNKNOWN, Verdict

MEMORY_LIMIT_BYTES = 3 * 1024 ** 3


def _worker_main(conn, memory_limit):
    import signal
    # Ctrl-C is for the main process, which stops the workers itself (a worker
    # would print its own traceback on the terminal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    except (ImportError, ValueError, OSError):  # not on every platform
        pass
    import pickle
    from .decide import run_task
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        started = time.perf_counter()  # the worker's own time: reading the task, deciding it
        message = pickle.loads(data)
        if message is None:
            return
        index, task = message
        _fresh_dummies()
        try:
            result = run_task(task)
        except MemoryError:
            result = Verdict(UNKNOWN, "limits", "ran out of memory while checking this step")
        except RecursionError:
            result = Verdict(UNKNOWN, "limits", "this step is nested too deeply to check")
        except Exception as exc:  # noqa: BLE001 - a decider bug must not end the run
            # a decider bug: say so plainly, without Python's names (the detail keeps them for reports)
            result = Verdict(UNKNOWN, "internal", "the checker hit a problem of its own on this step (a bug "
                             "in proofcheck, not in the proof); please report it",
                             detail={"internal": f"{type(exc).__name__}: {exc}"[:300]})
        result.seconds = round(time.perf_counter() - started, 4)
        try:
            conn.send((index, result))
        except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
            conn.send((index, Verdict(UNKNOWN, "internal", f"could not report the result: {exc}"[:300])))


def _fresh_dummies():
    """SymPy orders its Dummy symbols by a creation counter. A worker runs many
    tasks; so that a task's result does not depend on which tasks the same worker
    ran before it (scheduling depends on timing), start each task's counter at a
    fresh round number: its new Dummies then compare the same way on every run."""
    import sympy as sp
    sp.Dummy._count = (sp.Dummy._count // 10 ** 6 + 1) * 10 ** 6


class _Worker:
    def __init__(self, ctx, memory_limit):
        parent, child = ctx.Pipe()
        self.conn = parent
        self.process = ctx.Process(target=_worker_main, args=(child, memory_limit), daemon=True)
        self.process.start()
        child.close()
        self.task = None      # index of the running task
        self.started = 0.0
        self.limit = 0.0

    def kill(self):
        try:
            self.process.kill()
            self.process.join(1)
        except Exception:  # noqa: BLE001
            pass
        self.conn.close()


class Runner:
    """Runs tasks with per-task time limits on a small pool of processes."""

    def __init__(self, jobs: int | None = None, memory_limit: int = MEMORY_LIMIT_BYTES):
        self.jobs = max(1, jobs or min(2, os.cpu_count() or 1))
        self.memory_limit = memory_limit
        methods = mp.get_all_start_methods()
        self.ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        self.workers: list[_Worker] = []
        # a progress.Progress told of every answer (None: no progress line), and what
        # the tasks are, for its line ("deciding steps")
        self.progress = None
        self.progress_label = "deciding steps"

    def _spawn(self) -> _Worker:
        # a forked worker shares the parent's heap (SymPy, the file's expressions); its
        # cycle collector would walk all of it again and again (tens of ms per pass,
        # touching pages that are then copied). Freeze what exists now: the child never
        # collects it, and the parent unfreezes at once, so it collects as before.
        gc.freeze()
        try:
            return _Worker(self.ctx, self.memory_limit)
        finally:
            gc.unfreeze()

    def run(self, tasks, timeout: float, on_result=None) -> list:
        """tasks: list of picklable task objects. Returns their results in order."""
        results = [None] * len(tasks)
        pending = deque(range(len(tasks)))
        while len(self.workers) < min(self.jobs, len(tasks)):
            self.workers.append(self._spawn())
        busy: dict = {}
        progress, done = self.progress, 0
        while pending or busy:
            for w in self.workers:
                if w.task is None and pending:
                    index = pending.popleft()
                    w.task, w.started = index, time.monotonic()
                    w.limit = getattr(tasks[index], "timeout", None) or timeout
                    try:
                        w.conn.send((index, tasks[index]))
                    except Exception as exc:  # noqa: BLE001 - unpicklable task
                        results[index] = Verdict(UNKNOWN, "internal", f"could not send the step to a worker: {exc}"[:300])
                        w.task = None
                        continue
                    busy[w.conn] = w
            if not busy:
                continue
            now = time.monotonic()
            wait_for = max(0.0, min(w.started + w.limit - now for w in busy.values())) + 0.01
            if progress is not None:  # wake to redraw the line while a long step runs
                wait_for = min(wait_for, 0.25)
            ready = wait(list(busy), timeout=wait_for)
            for conn in ready:
                w = busy.pop(conn)
                try:
                    # result.seconds: the worker's own time on the step, measured there (the
                    # wait for this process to read the answer is not the step's)
                    index, result = conn.recv()
                except (EOFError, OSError):
                    index = w.task
                    result = Verdict(UNKNOWN, "limits", "the checker process for this step died "
                                     "(probably out of memory)")
                    self._replace(w)
                w.task = None
                results[index] = result
                done += 1
                if on_result:
                    on_result(index, result)
            now = time.monotonic()
            for conn, w in list(busy.items()):
                if now > w.started + w.limit:
                    busy.pop(conn)
                    index = w.task
                    results[index] = Verdict(UNKNOWN, "limits", f"time limit: no verdict within {w.limit:g} s (a safety net; raise it with --timeout)",
                                             seconds=round(now - w.started, 4))
                    done += 1
                    if on_result:
                        on_result(index, results[index])
                    self._replace(w)
            if progress is not None:
                progress.deciding(self.progress_label, done, len(tasks))
        return results

    def _replace(self, w: _Worker):
        w.kill()
        self.workers[self.workers.index(w)] = self._spawn()

    def close(self):
        for w in self.workers:
            try:
                w.conn.send(None)
            except Exception:  # noqa: BLE001
                pass
        for w in self.workers:
            w.process.join(0.5)
            if w.process.is_alive():
                w.kill()
        self.workers = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
