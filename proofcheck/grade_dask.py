"""Grading on a Dask cluster: `proofcheck grade --dask SCHEDULER_ADDRESS …`.

The client reads every submission (a file that is not text, or too large, is
answered on the spot, exactly as a local run answers it) and sends one task per
submission to the cluster: the assignment's text, the submission's path and text,
the options and the grading rules. Nothing is read from the workers' disks, so
the workers need not share a file system with the client.

Where a task runs. A Dask worker started by a nanny (`dask worker ADDRESS`, or a
`LocalCluster` with processes) is a *daemonic* process by default, and Python does
not let a daemonic process start children with `multiprocessing` ("daemonic
processes are not allowed to have children"); the checker needs children, because
every step runs in a worker process that is killed when the step overruns its time
limit. Setting `distributed.worker.daemon: False` in the cluster's configuration
would lift that, but a course does not always control the cluster, and the
workers' Python would still hash strings with a random seed. So each Dask worker
thread keeps one *grading process* of its own: a plain Python interpreter started
with `subprocess` (not daemonic, so its own step workers are allowed), running
`python -m proofcheck.grade_dask --serve` with `PYTHONHASHSEED=0` like the
`proofcheck` command. A task hands the submission to that process through a pipe
and waits for its grade. The step workers inside it are the usual killable,
memory-limited ones (`runner.Runner`), so a submission cannot stall or crash the
Dask worker; if the grading process dies, that submission scores 0 with a
message and a fresh process takes the next one. The process ends when its Dask
worker does (its input pipe closes).

Results are `grade.StudentGrade` objects, the same as a local run's (same scores,
statuses, reasons and steps), including `file_result` (the check report, used for
feedback pages); only the order of arrival differs, and the list returned is in the
order of `submission_paths`.

Parallelism comes from the cluster: each Dask worker thread grades one submission
at a time with `jobs` step workers (default 1), so start workers with one thread
per core (`dask worker ADDRESS --nthreads N`).
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

from . import grade

PROTOCOL = pickle.HIGHEST_PROTOCOL


class ClusterError(Exception):
    """The Dask cluster cannot be used (no scheduler at the address, a refused connection)."""


# ------------------------------------------------------------------ the client
def grade_on_dask(address, assignment_path, submission_paths, options, rules, *, jobs: int = 1,
                  cache_dir: str | None = None, on_result=None, client=None) -> list:
    """Grade `submission_paths` on the Dask cluster at `address` (a scheduler address
    such as `tcp://10.0.0.5:8786`); returns one `grade.StudentGrade` per path, in order.

    `jobs`: step workers per grading process on a Dask worker. `cache_dir`: a verdict
    cache directory *on each worker's own disk* (None: no cache; a cache on a shared
    network disk is not recommended, SQLite locks poorly there). `on_result(i, g)` is
    called as each submission's grade arrives. `client`: an existing
    `distributed.Client` to use instead of connecting to `address`.
    Raises `grade.AssignmentError` for an unusable assignment, like `load_assignment`, and
    `ClusterError` (its message in plain words) when no scheduler answers at `address`."""
    from distributed import Client, as_completed

    assignment = grade.load_assignment(assignment_path)
    results: list = [None] * len(submission_paths)
    payloads = {}
    for i, path in enumerate(submission_paths):
        text, why = grade.read_submission(path, rules)
        if text is None:
            results[i] = grade.ungradable(assignment, path, why)
            if on_result:
                on_result(i, results[i])
        else:
            payloads[i] = (assignment.text, assignment.path, path, text, options, rules, jobs, cache_dir)
    if not payloads:
        return results

    own = client is None
    if own:
        try:
            client = Client(address, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise ClusterError(f"cannot reach a Dask scheduler at {address}: {exc}") from None
    try:
        order = list(payloads)
        futures = client.map(grade_task, [payloads[i] for i in order], pure=False,
                             key=[f"proofcheck-grade-{i}-{os.getpid()}-{id(results)}" for i in order])
        index = {f.key: i for f, i in zip(futures, order)}
        for fut in as_completed(futures, loop=client.loop):
            i = index[fut.key]
            try:
                results[i] = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker must not stop the class
                results[i] = grade.ungradable(assignment, submission_paths[i],
                                              f"the submission could not be graded on the cluster "
                                              f"({type(exc).__name__}); grade it again")
            if on_result:
                on_result(i, results[i])
    finally:
        if own:
            client.close()
    return results


# ------------------------------------------------------------ the Dask task
_local = threading.local()


def grade_task(payload):
    """Runs on a Dask worker: grade one submission in this thread's grading process."""
    assignment_text, assignment_path, path = payload[0], payload[1], payload[2]
    proc = getattr(_local, "grader", None)
    if proc is None or proc.poll() is not None:
        proc = _local.grader = _start_grader()
    try:
        proc.stdin.write(pickle.dumps(payload, protocol=PROTOCOL))
        proc.stdin.flush()
        ok, value = pickle.load(proc.stdout)
    except (EOFError, OSError, pickle.UnpicklingError):
        _stop(proc)
        _local.grader = None
        assignment = grade.assignment_from_text(assignment_text, assignment_path)
        return grade.ungradable(assignment, path, "the checker stopped while grading this submission "
                                                  "(probably out of memory); please report it")
    if ok:
        return value
    raise RuntimeError(value)  # the grading process's own failure, not the student's


def _start_grader():
    env = dict(os.environ, PYTHONHASHSEED="0", PROOFCHECK_NO_REEXEC="1")
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.Popen([sys.executable, "-m", "proofcheck.grade_dask", "--serve"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)


def _stop(proc):
    try:
        proc.kill()
        proc.wait(5)
    except Exception:  # noqa: BLE001
        pass


# ------------------------------------------------------- the grading process
def serve(inp, out) -> None:
    """Grade payloads read from `inp` until it closes; answers (ok, grade or error text) on `out`."""
    from .check import check_text
    from .runner import Runner

    assignments: dict = {}
    runners: dict = {}
    caches: dict = {}
    try:
        while True:
            try:
                payload = pickle.load(inp)
            except EOFError:
                return
            try:
                value = _grade_payload(payload, assignments, runners, caches, check_text, Runner)
                answer = (True, value)
                data = pickle.dumps(answer, protocol=PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - reported to the task, which raises it
                data = pickle.dumps((False, f"{type(exc).__name__}: {exc}"[:500]), protocol=PROTOCOL)
            out.write(data)
            out.flush()
    finally:
        for r in runners.values():
            r.close()
        for c in caches.values():
            c.close()


def _grade_payload(payload, assignments, runners, caches, check_text, Runner):
    assignment_text, assignment_path, path, text, options, rules, jobs, cache_dir = payload
    key = (assignment_path, assignment_text)
    if key not in assignments:
        assignments.clear()
        assignments[key] = grade.assignment_from_text(assignment_text, assignment_path)
    assignment = assignments[key]
    if jobs not in runners:
        runners[jobs] = Runner(jobs)
    cache = None
    if cache_dir:
        if cache_dir not in caches:
            from .cache import VerdictCache
            caches[cache_dir] = VerdictCache(cache_dir)
        cache = caches[cache_dir]
    return grade.grade_text(assignment, text, path, options, runners[jobs], rules, cache)


def _main(argv) -> int:
    if argv != ["--serve"]:
        print("usage: python -m proofcheck.grade_dask --serve  (started by proofcheck grade --dask)",
              file=sys.stderr)
        return 2
    # the protocol owns the real standard output; anything printed goes to standard error
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
