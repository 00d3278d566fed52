"""Benchmark: grading a class of synthetic submissions, cold and warm.

Run from the project root after installing:  python bench/grading.py [--students 200]

A class of N submissions is made from the example course's reference solution
(examples/course/submissions/ada.pf) with the variations real classes show:
spacing and spelling (`≤` for `<=`), theorems and claims in another order, a
helper claim under another name, another valid route for a proof, slips (a
changed coefficient or sign in one step), a missing proof, an altered statement,
an added assumption that a proof cites. The class is graded twice with
`python -m proofcheck grade ASSIGNMENT DIR --format json --cache-dir DIR`: cold
(an empty verdict cache) and warm (the cache the first run filled). Wall times
include the process start-up, as a teacher sees them. Targets on a 2-core
machine: 200 submissions in under 60 s cold and under 10 s warm.

`--profile FILE` grades the class through the grading API in this process, cold
(to fill the cache), then warm under cProfile, and prints where the warm run's time
goes (a cold run's time is mostly in the step workers, which cProfile does not see).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "examples" / "course"
ASSIGNMENT = COURSE / "assignment.pf"
REFERENCE = COURSE / "submissions" / "ada.pf"

# ---------------------------------------------------------------- variations
# A slip: (the line of the reference as written, a template of the wrong line; {k} is a coefficient)
SLIPS = [
    ("    <= L_g*(L_f*|x - y|)       by lip_f", "    <= L_g*({k}*L_f*|x - y|)     by lip_f"),
    ("     = |(f(x) - f(y)) + (g(x) - g(y))|", "     = |(f(x) - f(y)) - (g(x) - g(y))|"),
    ("    <= L_f*|x - y| + L_g*|x - y|                      by lip_f, lip_g",
     "    <= L_f*|x - y| + {k}*L_g*|x - y|                    by lip_f, lip_g"),
    ("     = |f(x)*(g(x) - g(y)) + g(y)*(f(x) - f(y))|", "     = |f(x)*(g(x) - g(y)) + g(x)*(f(x) - f(y))|"),
    ("    <= K_f*(L_g*|x - y|) + K_g*(L_f*|x - y|)          by lip_g, lip_f",
     "    <= K_f*(L_g*|x - y|) + K_g*({k}*L_f*|x - y|)        by lip_g, lip_f"),
    ("     = (K_f*L_g + K_g*L_f)*|x - y|", "     = (K_f*L_g + {k}*K_g*L_f)*|x - y|"),
    ("    <= 1*|b - a|        by mvt, slope", "    <= {k}*|b - a|        by mvt, slope"),
]

# Another valid route for a proof: (the reference's proof body, the other one)
ROUTES = [
    ("  |g(f(x)) - g(f(y))|\n    <= L_g*|f(x) - f(y)|       by lip_g\n    <= L_g*(L_f*|x - y|)       by lip_f\n"
     "     = L_g*L_f*|x - y|\n",
     "  |g(f(x)) - g(f(y))|\n    <= L_g*|f(x) - f(y)|       by lip_g\n     = |f(x) - f(y)|*L_g\n"
     "    <= (L_f*|x - y|)*L_g       by lip_f\n     = L_g*L_f*|x - y|\n"),
    ("  |(f(x) + g(x)) - (f(y) + g(y))|\n     = |(f(x) - f(y)) + (g(x) - g(y))|\n",
     "  |(f(x) + g(x)) - (f(y) + g(y))|\n     = |f(x) - f(y) + g(x) - g(y)|\n"
     "     = |(f(x) - f(y)) + (g(x) - g(y))|\n"),
    ("     = |f(x)|*|g(x) - g(y)| + |g(y)|*|f(x) - f(y)|    by abs_mul\n"
     "    <= K_f*|g(x) - g(y)| + K_g*|f(x) - f(y)|          by bound_f, bound_g\n"
     "    <= K_f*(L_g*|x - y|) + K_g*(L_f*|x - y|)          by lip_g, lip_f\n",
     "     = |f(x)|*|g(x) - g(y)| + |g(y)|*|f(x) - f(y)|    by abs_mul\n"
     "    <= K_f*L_g*|x - y| + K_g*L_f*|x - y|             by bound_f, bound_g, lip_f, lip_g\n"),
]

STATEMENT_CHANGES = [
    ("|g(f(x)) - g(f(y))| <= L_g*L_f*|x - y|\n", "|g(f(x)) - g(f(y))| <= L_g*L_f*|x - y| + 1 + 1\n"),
    ("<= (L_f + L_g)*|x - y|\n", "<= (L_f + L_g + 1)*|x - y|\n"),
    ("|softplus(b) - softplus(a)| <= |b - a|\n", "|softplus(b) - softplus(a)| <= 2*|b - a|\n"),
]

HELPER_NAMES = ["deriv_bound", "slope_01", "h1", "mvt_bound", "lemma1", "softplus_slope", "dbound", "key"]


def split_blocks(text: str) -> tuple:
    """(preamble, [blocks]): each block a claim or a theorem with its proof."""
    lines = text.split("\n")
    first = next(i for i, ln in enumerate(lines) if ln.startswith(("theorem ", "claim ")))
    preamble, blocks, cur = "\n".join(lines[:first]), [], []
    for ln in lines[first:]:
        if ln.startswith(("theorem ", "claim ")) and cur:
            blocks.append("\n".join(cur).strip("\n") + "\n")
            cur = []
        cur.append(ln)
    if cur:
        blocks.append("\n".join(cur).strip("\n") + "\n")
    return preamble, blocks


def respace(text: str, rnd: random.Random) -> str:
    """Spacing and spelling that do not change a formula."""
    out = []
    for ln in text.split("\n"):
        if ln.lstrip().startswith(("#", "let ", "fun ", "def ", "assume ")) or not ln.strip():
            out.append(ln)
            continue
        choice = rnd.random()
        if choice < 0.3:
            ln = re.sub(r"(?<=\S) +(?=[-+*])|(?<=[-+*]) +(?=\S)", "", ln)  # tight
        elif choice < 0.5:
            ln = ln.replace("<=", "≤")
        elif choice < 0.6:
            ln = re.sub(r"^(\s+)", lambda m: " " * (len(m.group(1)) + 2), ln)
        out.append(ln)
    return "\n".join(out)


def vary(reference: str, rnd: random.Random, n: int) -> tuple:
    """(text, the variations applied) for student n."""
    text, what = reference, []
    if rnd.random() < 0.3:  # another valid route somewhere
        old, new = rnd.choice(ROUTES)
        text = text.replace(old, new)
        what.append("route")
    if rnd.random() < 0.35:  # a slip, with a coefficient of the student's own
        old, new = rnd.choice(SLIPS)
        text = text.replace(old, new.format(k=rnd.choice(["2", "3", "4", "5", "1/2", "3/2"])))
        what.append("slip")
    if rnd.random() < 0.3:  # a helper claim renamed
        name = rnd.choice(HELPER_NAMES) + ("" if n % 2 else f"_{n % 7}")
        text = re.sub(r"\bslope\b", name, text)
        what.append("rename")
    r = rnd.random()
    preamble, blocks = split_blocks(text)
    if r < 0.08:  # a proof left out
        i = rnd.choice([i for i, b in enumerate(blocks) if b.startswith("theorem ")])
        head = blocks[i].split("\n", 1)[0]
        blocks[i] = head + "\n"
        what.append("no proof")
    elif r < 0.14:  # an altered statement
        old, new = rnd.choice(STATEMENT_CHANGES)
        blocks = [b.replace(old, new, 1) for b in blocks]
        what.append("altered")
    elif r < 0.19:  # an added assumption, cited
        preamble += "\nassume easy : forall u, v: |softplus(u) - softplus(v)| <= |u - v|\n"
        blocks = [b.replace("    <= 1*|b - a|        by mvt, slope\n     = |b - a|\n", "    <= |b - a|   by easy\n")
                  for b in blocks]
        what.append("added assume")
    if rnd.random() < 0.4:  # theorems in another order (each claim stays before what cites it)
        theorems = [b for b in blocks if b.startswith("theorem ")]
        claims = [b for b in blocks if not b.startswith("theorem ")]
        rnd.shuffle(theorems)
        blocks = claims + theorems
        what.append("reorder")
    text = preamble.rstrip("\n") + "\n\n" + "\n".join(blocks)
    if rnd.random() < 0.6:
        text = respace(text, rnd)
        what.append("spacing")
    return text, what


def make_class(directory: Path, students: int, seed: int = 8) -> dict:
    reference = REFERENCE.read_text(encoding="utf-8")
    rnd = random.Random(seed)
    kinds: dict = {}
    for n in range(students):
        text, what = vary(reference.replace("Ada's solution", f"student s{n:03d}"), rnd, n)
        (directory / f"s{n:03d}.pf").write_text(text, encoding="utf-8")
        for w in what or ["as the reference"]:
            kinds[w] = kinds.get(w, 0) + 1
    return kinds


# ------------------------------------------------------------------- grading
def grade_cli(class_dir: Path, cache_dir: Path, jobs) -> tuple:
    cmd = [sys.executable, "-m", "proofcheck", "grade", str(ASSIGNMENT), str(class_dir), "--format", "json",
           "--cache-dir", str(cache_dir)] + (["--jobs", str(jobs)] if jobs else [])
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"proofcheck grade failed ({p.returncode}):\n{p.stderr[-2000:]}")
    doc = json.loads(p.stdout)
    return wall, {s["id"]: s["total"] for s in doc["students"]}


def grade_api(class_dir: Path, cache_dir: Path, jobs) -> tuple:
    """The same through the grading API, for when the command is not available."""
    from proofcheck import grade
    from proofcheck.cache import VerdictCache
    from proofcheck.check import Options
    from proofcheck.runner import Runner
    t = time.perf_counter()
    assignment = grade.load_assignment(str(ASSIGNMENT))
    files, _ = grade.collect_submissions([str(class_dir)])
    cache = VerdictCache(cache_dir)
    totals = {}
    with Runner(jobs) as runner:
        for f in files:
            g = grade.grade_file(assignment, f, Options(jobs=jobs), runner, grade.Rules(), cache)
            totals[g.id] = grade.as_number(g.total)
    cache.close()
    return time.perf_counter() - t, totals


def has_command() -> bool:
    p = subprocess.run([sys.executable, "-m", "proofcheck", "grade", "--help"], capture_output=True, cwd=ROOT)
    return p.returncode == 0


def profile(class_dir: Path, cache_dir: Path, out: str, jobs) -> None:
    import cProfile
    import pstats
    cold, _ = grade_api(class_dir, cache_dir, jobs)
    print(f"cold (API, not profiled): {cold:.1f} s")
    prof = cProfile.Profile()
    prof.enable()
    grade_api(class_dir, cache_dir, jobs)
    prof.disable()
    prof.dump_stats(out)
    stats = pstats.Stats(out)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--api", action="store_true", help="grade through the Python API, not the command")
    ap.add_argument("--keep", metavar="DIR", help="write the class here and keep it")
    ap.add_argument("--profile", metavar="FILE", help="profile a warm run in this process (cProfile) instead")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        class_dir = Path(args.keep) if args.keep else Path(tmp) / "class"
        class_dir.mkdir(parents=True, exist_ok=True)
        cache_dir = Path(tmp) / "cache"
        kinds = make_class(class_dir, args.students)
        print(f"class: {args.students} submissions in {class_dir}; variations: "
              + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
        if args.profile:
            profile(class_dir, cache_dir, args.profile, args.jobs)
            return 0
        use_cli = not args.api and has_command()
        run = grade_cli if use_cli else grade_api
        print("grading with " + ("`python -m proofcheck grade … --format json`" if use_cli else "the grading API"))
        cold, totals_cold = run(class_dir, cache_dir, args.jobs)
        warm, totals_warm = run(class_dir, cache_dir, args.jobs)
        n = args.students
        print(f"cold: {cold:6.1f} s  {n / cold:6.1f} submissions/s   (target: under 60 s for 200)")
        print(f"warm: {warm:6.1f} s  {n / warm:6.1f} submissions/s   (target: under 10 s for 200)")
        print(f"total: {cold + warm:.1f} s")
        full = sum(1 for v in totals_cold.values() if v == 10)
        print(f"grades: {full} of {n} full marks; mean {sum(totals_cold.values()) / n:.2f} of 10")
        if totals_cold != totals_warm:
            diff = sorted(k for k in totals_cold if totals_cold[k] != totals_warm.get(k))
            print(f"WARNING: cold and warm grades differ for {len(diff)} submission(s): {diff[:10]}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
