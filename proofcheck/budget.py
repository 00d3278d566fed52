"""Work budgets: what a decider may spend, so that verdicts do not depend on speed.

Every search in a decider is bounded by *counted* work (a number of test points,
matrix sizes, rewriting strategies, Z3's deterministic `rlimit`), never by the
clock: the same step gets the same verdict on a fast or a loaded machine.

The clock is only a safety net. `wall_limit(seconds)` arms a timer inside the
worker process; when it fires, `OutOfTime` is raised wherever pure-Python work is
running, and the step ends as `unknown` ("time limit"), never `checked` and never
`proved`. Code that does not return to Python (a solver call) is covered by the
runner, which kills the worker. No decider may catch `OutOfTime`, nor branch on
how much time is left.
"""
from __future__ import annotations

import signal
import time
from contextlib import contextmanager

# Z3's deterministic resource limit for one query (counted work, not time).
Z3_RLIMIT = 4_000_000
# a smaller one for side conditions (domains) and for vacuity checks
Z3_RLIMIT_SMALL = 1_000_000
# Z3's nonlinear arithmetic does not keep to its resource limit on large problems
# (3x3 matrices E, F with trace(E*F) >= -norm_F(E)*norm_F(F): 21 s per query at any
# rlimit), so a nonlinear query with more unknowns than this is not asked at all
# (the proofs of proofs/ use at most 12)
Z3_MAX_NONLINEAR_UNKNOWNS = 16

_deadline: float | None = None


class OutOfTime(BaseException):
    """The wall-clock safety net fired. A BaseException, so that the `except
    Exception` handlers inside deciders cannot swallow it."""


def _fire(signum, frame):
    # fire again shortly: an exception raised inside a finaliser (`__del__`) is
    # ignored by Python, and the step must still stop
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    raise OutOfTime()


@contextmanager
def wall_limit(seconds: float):
    """Raise OutOfTime in this (worker) process after `seconds` of wall time."""
    global _deadline
    armed = hasattr(signal, "setitimer") and seconds > 0
    old = None
    _deadline = time.monotonic() + seconds
    if armed:
        old = signal.signal(signal.SIGALRM, _fire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _deadline = None
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def check() -> None:
    """Raise OutOfTime if the safety net's deadline has passed (for loops that want
    to stop promptly even where the timer signal is not available)."""
    if _deadline is not None and time.monotonic() > _deadline:
        raise OutOfTime()
