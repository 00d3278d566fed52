"""Grading on a Dask cluster gives the grades of a local run.

The test starts its own `LocalCluster` (worker processes on 127.0.0.1, started by
nannies, hence daemonic, as on a real cluster), grades the example course through
it and compares every student's grade with a local run's.
"""
import multiprocessing
from pathlib import Path

import dask
import distributed  # the optional extra proofcheck[dask], part of the test extra
import pytest

from proofcheck import grade
from proofcheck.check import Options

from proofcheck.grade_dask import grade_on_dask

COURSE = Path(__file__).resolve().parent.parent / "examples" / "course"


def comparable(g: grade.StudentGrade):
    """Everything a teacher or a student sees of a grade (timings left out)."""
    def step(s):
        return {k: v for k, v in s.items() if k != "seconds"}
    theorems = [(t.name, t.score, t.max_score, t.status, t.reason, t.line, [step(s) for s in t.steps])
                for t in g.theorems]
    items = None if g.file_result is None else \
        [(it.kind, it.name, it.status, it.message) for it in g.file_result.items]
    return (g.id, g.path, g.total, g.max, g.gradable, g.message, theorems, items)


def _daemonic():
    return multiprocessing.current_process().daemon


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as c:
        yield c


def test_dask_grades_equal_local_grades(cluster, runner):
    files, _ = grade.collect_submissions([str(COURSE / "submissions")])
    assignment_path = str(COURSE / "assignment.pf")
    assignment = grade.load_assignment(assignment_path)
    local = [grade.grade_file(assignment, f, Options(), runner, grade.Rules()) for f in files]

    with distributed.Client(cluster.scheduler_address) as client:
        # the workers are daemonic processes: they may not fork step workers themselves
        assert all(client.run(_daemonic).values())
    arrived = []
    remote = grade_on_dask(cluster.scheduler_address, assignment_path, files, Options(), grade.Rules(),
                           on_result=lambda i, g: arrived.append(i))
    assert sorted(arrived) == list(range(len(files)))
    assert [g.id for g in remote] == [g.id for g in local]
    for mine, theirs in zip(remote, local):
        assert comparable(mine) == comparable(theirs), mine.id
    # the example course's grades, to be sure the comparison is not of two empty runs
    totals = {g.id: grade.as_number(g.total) for g in remote}
    assert totals["ada"] == 10 and totals["ivy"] == 0 and totals["gus"] == 7


def test_dask_rules_reach_the_workers(cluster):
    """--strict and --partial apply on the cluster as locally: no partial credit with partial=0."""
    files = [str(COURSE / "submissions" / "ben.pf")]
    [g] = grade_on_dask(cluster.scheduler_address, str(COURSE / "assignment.pf"), files, Options(),
                        grade.Rules(partial=0))
    sum_rule = next(t for t in g.theorems if t.name == "sum_rule")
    assert sum_rule.status == "refuted" and sum_rule.score == 0
    assert g.total == 8


def test_no_scheduler_is_a_plain_error():
    from proofcheck.grade_dask import ClusterError
    with pytest.raises(ClusterError, match="cannot reach a Dask scheduler at tcp://127.0.0.1:9"):
        with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
            grade_on_dask("tcp://127.0.0.1:9", str(COURSE / "assignment.pf"),
                          [str(COURSE / "submissions" / "ada.pf")], Options(), grade.Rules())
