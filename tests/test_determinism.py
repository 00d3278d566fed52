"""Same input, same verdict: on a fast or a loaded machine, with one worker or two,
whatever Python's hash seed. Searches are budgeted in counted work; the clock is
only a safety net whose expiry is `unknown` ("limits"), never `checked`."""
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# false and true steps of every kind of decider, and the false `checked` of issue 7
SOURCE = """let x, y : real
let a, b : real, positive
let k : integer
let n, m : integer, positive
let A, X : matrix(m, n)
let S : matrix(n, n)
fun f : real -> real
assume lip : forall u, w: |f(u) - f(w)| <= 2*|u - w|
claim c1 : (a + b)^2 >= 4*a*b
claim c2 : a^3 + b^3 >= 2*a^2*b
claim c3 : exp(x) >= 1 + x + x^2/3
claim c4 : |f(x) - f(y)| <= 3*|x - y| by lip
claim c5 : |f(x) - f(y)| <= |x - y| by lip
claim c6 : log(a) <= a - 1
claim c7 : sum(i = 1..k, 1) = k
claim c8 : cos(x - 1/9) <= 1 - 10^-20
claim c9 : trace(A^T*X) = sum(i = 1..n, j = 1..n, A[i, j]*X[i, j])
claim c10 : trace(S)^2 <= 4*norm_F(S)^2
claim c11 : sigmoid(x) < 1
claim c12 : sqrt(a*b) <= (a + b)/2
"""


def verdicts(path, *args, env=None):
    p = subprocess.run([sys.executable, "-m", "proofcheck", "--no-cache", "--format", "json", str(path), *args],
                       capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert "Traceback" not in p.stderr, p.stderr
    doc = json.loads(p.stdout)
    out = {}
    for it in doc["files"][0]["items"]:
        for st in it["steps"]:
            out[(st["line"], st["column"])] = (st["status"], st.get("method", ""), st.get("message", ""),
                                               json.dumps(st.get("counterexample"), sort_keys=True))
    return out


def same_or_out_of_time(a, b):
    """Equal verdicts, except that a step may run out of time on the slower run
    (then it must say so: `unknown` by "limits", never `checked`)."""
    diffs = []
    for key in a:
        if a[key] == b[key]:
            continue
        if any(v[0] == "unknown" and v[1] == "limits" for v in (a[key], b[key])):
            continue
        diffs.append((key, a[key], b[key]))
    return diffs


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_same_verdicts_with_one_worker_or_two_and_any_hash_seed(tmp_path):
    f = tmp_path / "d.pf"
    f.write_text(SOURCE)
    env1 = dict(os.environ, PYTHONHASHSEED="1", PROOFCHECK_NO_REEXEC="1")
    env2 = dict(os.environ, PYTHONHASHSEED="2", PROOFCHECK_NO_REEXEC="1")
    one = verdicts(f, "--jobs", "1", env=env1)
    two = verdicts(f, "--jobs", "2", env=env2)
    assert not same_or_out_of_time(one, two)
    statuses = {v[0] for v in one.values()}
    assert {"proved", "refuted"} <= statuses


def test_a_loaded_machine_gives_the_same_verdicts(tmp_path):
    f = tmp_path / "d.pf"
    f.write_text(SOURCE)
    quiet = verdicts(f)
    hogs = [mp.Process(target=_spin, args=(60,)) for _ in range(3)]
    for h in hogs:
        h.start()
    try:
        loaded = verdicts(f)
    finally:
        for h in hogs:
            h.kill()
    assert not same_or_out_of_time(quiet, loaded)


def test_a_short_time_limit_never_turns_a_false_step_checked(tmp_path):
    f = tmp_path / "d.pf"
    f.write_text(SOURCE)
    normal = verdicts(f)
    hurried = verdicts(f, "--timeout", "0.3")
    assert not same_or_out_of_time(normal, hurried)
    # the false claims are never accepted, whatever the limit
    for key, v in hurried.items():
        if normal[key][0] == "refuted":
            assert v[0] in ("refuted", "unknown"), (key, v)
