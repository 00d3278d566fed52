"""The verdict cache: a second run answers from it, with the same verdicts; a
changed checker never reads old verdicts; machine-dependent answers are not stored."""
import json
import subprocess
import sys
from pathlib import Path

from proofcheck import cache as cachelib
from proofcheck.cache import VerdictCache, decide_with_cache
from proofcheck.check import Options, check_text
from proofcheck.verdict import PROVED, UNKNOWN, Verdict

ROOT = Path(__file__).resolve().parent.parent
TEXT = ("let x, y : real\nlet a, b : real, positive\n"
        "claim c1 : (a + b)^2 >= 4*a*b\nclaim c2 : (x + y)^2 = x^2 + y^2\nclaim c3 : exp(x) >= 1 + x\n")


class CountingRunner:
    """A runner that counts the tasks it is given."""

    def __init__(self, runner):
        self.runner = runner
        self.count = 0

    def run(self, tasks, timeout, on_result=None):
        self.count += len(tasks)
        return self.runner.run(tasks, timeout)


def statuses(result):
    return [(it.name, it.status, it.message) for it in result.items]


def test_a_second_run_answers_from_the_cache(runner, tmp_path):
    counting = CountingRunner(runner)
    c = VerdictCache(tmp_path)
    first = check_text(TEXT, "a.pf", Options(), counting, c)
    decided = counting.count
    assert decided >= 3 and c.misses == decided
    second = check_text(TEXT, "a.pf", Options(), counting, VerdictCache(tmp_path))
    assert counting.count == decided, "nothing is decided again"
    assert statuses(first) == statuses(second)


def test_the_same_step_in_another_place_is_the_same_task(runner, tmp_path):
    counting = CountingRunner(runner)
    c = VerdictCache(tmp_path)
    check_text(TEXT, "a.pf", Options(), counting, c)
    moved = "# a comment first\n\n" + TEXT + "claim again : (a + b)^2 >= 4*a*b\n"
    before = counting.count
    r = check_text(moved, "b.pf", Options(), counting, c)
    assert counting.count == before, "moved and repeated steps are all cache hits"
    assert [it.status for it in r.items] == ["proved", "refuted", "unknown", "proved"]


def test_identical_steps_in_one_file_are_decided_once(runner):
    counting = CountingRunner(runner)
    text = "let x : real\n" + "".join(f"claim c{i} : (x + 1)^2 >= 0\n" for i in range(6))
    r = check_text(text, "a.pf", Options(), counting)
    assert counting.count == 1
    assert all(it.status == PROVED for it in r.items)


def test_a_changed_checker_does_not_read_old_verdicts(runner, tmp_path, monkeypatch):
    counting = CountingRunner(runner)
    check_text(TEXT, "a.pf", Options(), counting, VerdictCache(tmp_path))
    decided = counting.count
    monkeypatch.setattr(cachelib, "_version", "another-version")
    check_text(TEXT, "a.pf", Options(), counting, VerdictCache(tmp_path))
    assert counting.count == 2 * decided


def test_time_limits_and_internal_problems_are_not_stored(tmp_path):
    class Fixed:
        def run(self, tasks, timeout, on_result=None):
            return [Verdict(UNKNOWN, "limits", "time limit"), Verdict(UNKNOWN, "internal", "bug"),
                    Verdict(PROVED, "m", "")][:len(tasks)]
    c = VerdictCache(tmp_path)
    decide_with_cache(["t1", "t2", "t3"], ["k1", "k2", "k3"], Fixed(), 1.0, c)
    assert set(c.get_many(["k1", "k2", "k3"])) == {"k3"}


def test_the_command_uses_the_cache_and_no_cache_skips_it(tmp_path):
    f = tmp_path / "a.pf"
    f.write_text(TEXT)
    def run(*args):
        p = subprocess.run([sys.executable, "-m", "proofcheck", "--format", "json", str(f), *args],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
        return json.loads(p.stdout)
    cold = run("--no-cache")
    assert not (tmp_path / ".proofcheck-cache").exists()
    run()
    assert (tmp_path / ".proofcheck-cache" / "verdicts.sqlite3").exists()
    warm = run()
    steps = lambda d: [(s["status"], s["message"]) for it in d["files"][0]["items"] for s in it["steps"]]  # noqa: E731
    assert steps(cold) == steps(warm)
    assert all(s["seconds"] == 0.0 for it in warm["files"][0]["items"] for s in it["steps"])
    assert warm["files"][0]["cached"] is True and cold["files"][0]["cached"] is False


# ---------------------------------------------------------------- whole files
def everything(result):
    """All a report shows of a file, except times."""
    def item(it):
        return (it.kind, it.name, it.span, it.text, it.status, it.message, it.method, it.points,
                None if it.own is None else (it.own.status, it.own.method, it.own.message),
                [(st.span, st.relation, st.lhs, st.rhs, st.hints, st.verdict.status, st.verdict.method,
                  st.verdict.message, st.verdict.counterexample) for st in it.steps if st.verdict],
                [p.status for p in it.parts])
    return [item(it) for it in result.items], result.status


def test_an_unchanged_file_is_read_whole_with_every_verdict_and_value(runner, tmp_path):
    text = (ROOT / "proofs" / "mistakes.pf").read_text(encoding="utf-8")
    c = VerdictCache(tmp_path)
    first = check_text(text, "m.pf", Options(), runner, c)
    c.put_file(text, Options(), first)
    again = VerdictCache(tmp_path).get_file("elsewhere.pf", text, Options())
    assert again is not None and again.cached and again.path == "elsewhere.pf"
    assert everything(again) == everything(first)
    assert any(st.verdict.counterexample for it in again.items for st in it.steps), "values survive"


def test_a_changed_text_time_limit_seed_or_checker_reads_no_stored_file(runner, tmp_path, monkeypatch):
    c = VerdictCache(tmp_path)
    c.put_file(TEXT, Options(), check_text(TEXT, "a.pf", Options(), runner, c))
    assert c.get_file("a.pf", TEXT, Options()) is not None
    assert c.get_file("a.pf", TEXT + "\n", Options()) is None
    assert c.get_file("a.pf", TEXT, Options(timeout=2.0)) is None
    assert c.get_file("a.pf", TEXT, Options(seed=1)) is None
    assert c.get_file("a.pf", TEXT, Options(strict=True, jobs=1)) is not None, "these change no verdict"
    monkeypatch.setattr(cachelib, "_version", "another-version")
    assert c.get_file("a.pf", TEXT, Options()) is None


def test_a_file_with_a_verdict_of_this_run_only_is_not_stored(runner, tmp_path):
    class Limited:
        def run(self, tasks, timeout, on_result=None):
            return [Verdict(UNKNOWN, "limits", "time limit: no verdict within 5 s")] + \
                runner.run(tasks[1:], timeout)
    c = VerdictCache(tmp_path)
    result = check_text(TEXT, "a.pf", Options(), Limited())
    c.put_file(TEXT, Options(), result)
    assert c.get_file("a.pf", TEXT, Options()) is None


def test_the_command_reads_an_unchanged_file_without_loading_the_checker(tmp_path):
    f = tmp_path / "a.pf"
    f.write_text(TEXT)
    code = ("import sys; from proofcheck.cli import main; code = main([sys.argv[1]]); "
            "print('SYMPY', 'sympy' in sys.modules); sys.exit(code)")
    first = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True,
                           cwd=tmp_path, timeout=120)
    second = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert "SYMPY True" in first.stdout and "(from the cache)" not in first.stdout
    assert "SYMPY False" in second.stdout and "(from the cache)" in second.stdout
    assert first.returncode == second.returncode == 1  # c2 is refuted either way
    body = lambda out: [ln for ln in out.splitlines() if not ln.startswith(("SYMPY", str(f)))]  # noqa: E731
    assert body(first.stdout) == body(second.stdout)


def test_a_malformed_stored_file_is_a_missing_one(runner, tmp_path):
    import sqlite3
    import zlib
    c = VerdictCache(tmp_path)
    c.put_file(TEXT, Options(), check_text(TEXT, "a.pf", Options(), runner, c))
    c.close()
    db = sqlite3.connect(str(tmp_path / "verdicts.sqlite3"))
    for junk in (b'{"items":[7],"table":[]}', b'{"items":[0],"table":[{"$":"Nope"}]}', b"[1, 2]", b"{}"):
        with db:
            db.execute("UPDATE files SET result = ?", (zlib.compress(junk),))
        assert VerdictCache(tmp_path).get_file("a.pf", TEXT, Options()) is None, junk
    db.close()
