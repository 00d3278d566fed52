"""Big files: read one statement at a time (no syntax tree kept), identical steps
decided once, and the same results as reading the whole tree first."""
from pathlib import Path

from proofcheck.check import Options, check_files
from proofcheck.verdict import PROVED, UNKNOWN, Verdict

ROOT = Path(__file__).resolve().parent.parent


class Stub:
    """Answers every task at once, and counts them (reading is what is tested here)."""

    def __init__(self):
        self.count = 0

    def run(self, tasks, timeout, on_result=None):
        self.count += len(tasks)
        return [Verdict(UNKNOWN, "stub", f"task {type(t).__name__}") for t in tasks]


def shown(result):
    def item(it):
        return (it.kind, it.name, it.span, it.text, it.status, it.message, it.method,
                [(st.span, st.relation, st.lhs, st.rhs, st.hints, st.verdict and st.verdict.message)
                 for st in it.steps], [p.span for p in it.parts])
    return [item(it) for it in result.items], result.status


BROKEN = """let x, y : real
claim a : x^2 >= 0
theorem t : (x + 1)^2 = x^2 + 2*x + 1
proof
  have h : x^2 >= 0
  (x + 1)^2
    = x^2 + 2*x + 1 +* 0
    = x^2 + 2*x + 1
qed
claim b : y = = y
theorem u : x = x
proof
  x
    = x  by a
qed
"""


def test_reading_one_statement_at_a_time_gives_the_same_results():
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "proofs").rglob("*.pf"))]
    texts.append(("broken.pf", BROKEN))
    texts.append(("bom.pf", "\ufeff" + BROKEN))
    whole = check_files(texts, Options(), Stub())
    streamed = check_files(texts, Options(), Stub(), keep_tree=False)
    for a, b in zip(whole, streamed):
        assert shown(a) == shown(b), a.path
        assert a.doc is not None and b.doc is None


class Counting:
    def __init__(self, runner):
        self.runner, self.count = runner, 0

    def run(self, tasks, timeout, on_result=None):
        self.count += len(tasks)
        return self.runner.run(tasks, timeout)


def test_a_file_of_repeated_claims_decides_its_step_once(runner):
    counting = Counting(runner)
    text = "let x : real\n" + "claim : (x + 1)^2 = x^2 + 2*x + 1\n" * 20_000
    [result] = check_files([("big.pf", text)], Options(), counting, keep_tree=False)
    assert counting.count == 1
    assert len(result.items) == 20_000  # the claims (a declaration is no item)
    assert all(it.status == PROVED for it in result.items)
    assert result.items[-1].span.line == 20_001
