"""`proofcheck grade ASSIGNMENT.pf SUBMISSION…`: score a class (docs/grading.md)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="proofcheck grade",
        description="Grade submissions against an assignment: each theorem's statement, declarations and "
                    "assumptions must be the assignment's; proofs are checked step by step.")
    p.add_argument("assignment", metavar="ASSIGNMENT.pf", help="the assignment: theorems with points, no proofs")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="submitted .pf files, or folders of them (a student's id is the file's stem)")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text",
                   help="what to print (default: a table on a terminal)")
    p.add_argument("--gradescope", metavar="OUT.json", help="write Gradescope's results.json (one submission)")
    p.add_argument("--prairielearn", metavar="OUT.json",
                   help="write PrairieLearn's external-grader results (one submission)")
    p.add_argument("--out", metavar="DIR", help="write one feedback page per student, DIR/ID.html")
    p.add_argument("--strict", action="store_true", help="only `proved` earns points (`checked` does not)")
    p.add_argument("--partial", type=Fraction, default=Fraction(1, 2), metavar="FRACTION",
                   help="partial credit: this share of a theorem's points times the share of its steps "
                        "that hold (default 1/2; 0 for none)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="per step (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed for the random test points (default 0)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: up to 2)")
    p.add_argument("--max-bytes", type=int, default=1_000_000, metavar="N",
                   help="larger submissions score 0 (default 1000000)")
    p.add_argument("--max-steps", type=int, default=400, metavar="N",
                   help="submissions with more steps to check score 0 (default 400; bounds grading time)")
    p.add_argument("--no-cache", action="store_true", help="decide every step again")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="the verdict cache (default: .proofcheck-cache in the working directory)")
    p.add_argument("--dask", metavar="SCHEDULER_ADDRESS",
                   help="grade on an existing Dask cluster (needs `pip install proofcheck[dask]`)")
    p.add_argument("--no-color", action="store_true", help="no colours in the table")
    return p


def _progress(total: int):
    """A progress bar on a terminal (standard error), or nothing."""
    if not sys.stderr.isatty() or total < 2:
        return None
    try:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:  # pragma: no cover - rich is a dependency
        return None
    bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   transient=True, console=None)
    return bar


def _write_json_file(path: str, data) -> None:
    import json
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if not (0 <= args.partial <= 1):
        parser.error("--partial must be between 0 and 1")
    from .grade import AssignmentError, Rules, collect_submissions, grade_file, load_assignment, ungradable
    try:
        assignment = load_assignment(args.assignment)
    except AssignmentError as err:
        print(f"proofcheck grade: {err}", file=sys.stderr)
        return 2
    files, problems = collect_submissions(args.submissions)
    same = Path(args.assignment).resolve()
    files = [f for f in files if Path(f).resolve() != same]  # a folder may hold the assignment too
    for path, why in problems:
        print(f"proofcheck grade: {path}: {why}", file=sys.stderr)
    if not files:
        print("proofcheck grade: no submissions to grade", file=sys.stderr)
        return 2
    if (args.gradescope or args.prairielearn) and len(files) != 1:
        parser.error("--gradescope and --prairielearn write the results of one submission; give exactly one")

    from .check import Options
    rules = Rules(strict=args.strict, partial=args.partial, max_bytes=args.max_bytes, max_steps=args.max_steps)
    options = Options(timeout=args.timeout, seed=args.seed, strict=args.strict, jobs=args.jobs)
    started = time.monotonic()
    if args.dask:
        try:
            from .grade_dask import grade_on_dask
        except ImportError:
            print("proofcheck grade: --dask needs Dask: pip install 'proofcheck[dask]'", file=sys.stderr)
            return 2
        from .grade_dask import ClusterError
        try:
            grades = grade_on_dask(args.dask, args.assignment, files, options, rules,
                                   cache_dir=None if args.no_cache else os.path.abspath(
                                       args.cache_dir or ".proofcheck-cache"))
        except ClusterError as err:
            print(f"proofcheck grade: {err}", file=sys.stderr)
            return 2
    else:
        grades = _grade_locally(assignment, files, options, rules, args)
    seconds = time.monotonic() - started

    from . import report_grade
    if args.format == "json":
        print(report_grade.render_json(assignment, grades))
    elif args.format == "csv":
        sys.stdout.write(report_grade.render_csv(assignment, grades))
    else:
        color = sys.stdout.isatty() and not args.no_color and "NO_COLOR" not in os.environ
        print(report_grade.render_table(assignment, grades, color))
        print(f"{len(grades)} submission(s) graded in {seconds:.1f} s")
    if args.gradescope:
        _write_json_file(args.gradescope, report_grade.gradescope_results(grades[0], assignment))
    if args.prairielearn:
        _write_json_file(args.prairielearn, report_grade.prairielearn_results(grades[0], assignment))
    if args.out:
        from .report_grade_html import write_feedback
        write_feedback(args.out, assignment, grades)
    return 0


def _grade_locally(assignment, files, options, rules, args) -> list:
    from .cli import open_cache
    from .grade import grade_file
    from .runner import Runner
    cache = open_cache(args)
    grades = []
    bar = _progress(len(files))
    try:
        with Runner(args.jobs) as runner:
            if bar is not None:
                with bar:
                    task = bar.add_task("grading", total=len(files))
                    for f in files:
                        grades.append(grade_file(assignment, f, options, runner, rules, cache))
                        bar.advance(task)
            else:
                for f in files:
                    grades.append(grade_file(assignment, f, options, runner, rules, cache))
    finally:
        if cache is not None:
            cache.close()
    return grades
