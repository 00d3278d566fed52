"""Benchmark: the speed targets of the project, measured in one run.

Run from the project root after installing:  python bench/run.py  [--skip-big]

Every wall time is a whole command (`python -m proofcheck …`, process start-up
included, as a user sees it) and, where the target is a ratio, it is divided by
`python -c "import sympy, lark"` timed in the same run (best of 3), so the figures
compare across machines and loads. Every run passes `--no-cache` except the cached
run of proofs/, which has its own cache directory (the first run fills it).

Peak memory is the largest resident set of the command or any of its worker
processes (os.wait4's ru_maxrss, as /usr/bin/time's %M).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import speed  # noqa: E402  (bench/speed.py: the generated files and the parser figure)

BIG_BYTES = 5_000_000
BIG_CLAIM = "claim : (x + 1)^2 = x^2 + 2*x + 1\n"


def timed(cmd, timeout: float | None = None, stdout=subprocess.DEVNULL) -> tuple[float, int, float, int | None]:
    """(wall seconds, peak RSS in KB, user+sys seconds, exit status or None when killed)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=stdout, stderr=subprocess.DEVNULL)
    deadline = None if timeout is None else t + timeout
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            p.kill()
            pid, status, usage = os.wait4(p.pid, 0)
            p.returncode = -9
            return time.perf_counter() - t, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, None
        time.sleep(0.005)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, p.returncode


def proofcheck(*args) -> list:
    return [sys.executable, "-m", "proofcheck", *args]


def best_of(n: int, cmd) -> float:
    return min(timed(cmd)[0] for _ in range(n))


def run_json(args, out: Path) -> tuple[float, dict | None]:
    with open(out, "w", encoding="utf-8") as f:
        wall = timed(proofcheck(*args, "--format", "json"), stdout=f)[0]
    try:
        return wall, json.loads(out.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return wall, None


def chain_file(steps: int = 1000) -> str:
    """One theorem whose chain has `steps` equality steps, all different."""
    lines = ["let x, y : real", "theorem t : x^2 = x^2", "proof", "  x^2"]
    for i in range(1, steps):
        lines.append(f"    = (x + {i})^2 - {2 * i}*x - {i * i}" if i % 2 else f"    = x^2 + {i}*y - {i}*y")
    lines += ["    = x^2", "qed", ""]
    return "\n".join(lines)


def claims_file(n: int = 1000, named: bool = True) -> str:
    body = "".join(f"claim {f'c{i} ' if named else ''}: (x + {i})^2 = x^2 + {2 * i}*x + {i * i}\n"
                   for i in range(1, n + 1))
    return "let x : real\n" + body


def matrix_file(n: int = 40) -> str:
    """n different matrix claims of four kinds: trace and transpose identities (proved),
    a determinant rule that is false (refuted), a norm bound (checked on instances)."""
    kinds = ["claim : trace({i}*A*B) = {i}*trace(B*A)", "claim : (A + {i}*B)^T = A^T + {i}*B^T",
             "claim : det({i}*A) = {i}*det(A)", "claim : norm_F(A + {i}*B) <= norm_F(A) + {i}*norm_F(B)"]
    return "let n : integer, positive\nlet A, B : matrix(n, n)\n" + \
        "".join(kinds[k % 4].format(i=k + 2) + "\n" for k in range(n))


def verdicts(doc) -> list:
    """What a JSON report says of every item and step, times left out."""
    return [(fd["path"], it["line"], it["status"], it["message"],
             [(st["line"], st["status"], st["method"], st["message"], st["counterexample"]) for st in it["steps"]])
            for fd in doc["files"] for it in fd["items"]]


def compile_package() -> None:
    """pip compiles a package's bytecode when it installs it; an editable checkout run
    with PYTHONDONTWRITEBYTECODE would compile every module at every start instead.
    Measure what an installed user runs."""
    import compileall
    for folder in ("proofcheck", "grammar"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


def main() -> int:
    ap = argparse.ArgumentParser(description="proofcheck's speed targets, measured in one run")
    ap.add_argument("--skip-big", action="store_true", help="leave out the 5 MB file")
    ap.add_argument("--big-timeout", type=float, default=180.0, help="kill the 5 MB run after this many seconds")
    args = ap.parse_args()
    rows = []

    def row(measure, value, target, met):
        rows.append((measure, value, target, "yes" if met else "NO"))
        print(f"  {measure}: {value}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("measuring (a few minutes)…", file=sys.stderr, flush=True)
        compile_package()
        base = best_of(3, [sys.executable, "-c", "import sympy, lark"])
        row("python -c 'import sympy, lark' (best of 3)", f"{base:.3f} s", "reference", True)

        one = tmp / "one_line.pf"
        one.write_text("claim c : 1 + 1 = 2\n", encoding="utf-8")
        startup = best_of(3, proofcheck("--no-cache", "--quiet", str(one)))
        row("start-up, a one-line file (best of 3)", f"{startup:.3f} s = {startup / base:.2f}x", "<= 1.1x",
            startup / base <= 1.1)

        wall, doc = run_json(["--no-cache", "proofs"], tmp / "proofs.json")
        proved = []
        if doc is not None:
            proved = [s["seconds"] for fd in doc["files"] for it in fd["items"] for s in it["steps"]
                      if s["status"] == "proved"]
        if proved:
            med = statistics.median(proved)
            row(f"median proved step, worker time ({len(proved)} steps of proofs/)", f"{med * 1000:.1f} ms",
                "<= 4 ms", med <= 0.004)
        else:
            row("median proved step, worker time", "no JSON output", "<= 4 ms", False)
        row("proofs/ cold (--no-cache)", f"{wall:.2f} s", "<= 4 s", wall <= 4.0)

        cache_dir = tmp / "cache"
        _, filled = run_json(["--cache-dir", str(cache_dir), "proofs"], tmp / "filled.json")  # fills the cache
        cached, again = run_json(["--cache-dir", str(cache_dir), "proofs"], tmp / "again.json")
        row("proofs/ again, from the cache", f"{cached:.2f} s = {cached / startup:.2f}x start-up",
            "<= 1.5x start-up", cached / startup <= 1.5)
        same = None not in (doc, filled, again) and verdicts(doc) == verdicts(filled) == verdicts(again)
        row("proofs/: verdicts without cache, filling it, from it", "identical" if same else "DIFFERENT",
            "identical", same)

        # linear growth: twice the file, twice the time (repeated claims, and different ones)
        small, large = tmp / "repeat_1.pf", tmp / "repeat_2.pf"
        small.write_text("let x : real\n" + BIG_CLAIM * 10_000, encoding="utf-8")
        large.write_text("let x : real\n" + BIG_CLAIM * 20_000, encoding="utf-8")
        t1 = timed(proofcheck("--no-cache", "--quiet", str(small)))[0] - startup
        t2 = timed(proofcheck("--no-cache", "--quiet", str(large)))[0] - startup
        row("20,000 / 10,000 repeated claims (time after start-up)", f"{t2:.2f} s / {t1:.2f} s = {t2 / t1:.2f}x",
            "<= 2.2x", t2 / t1 <= 2.2)

        def growth(label, make, n):
            """Time after start-up of the file made with 2n against n (best of 2 each, as
            start-up is subtracted, a slow moment weighs twice): linear is 2x."""
            times = []
            for k in (n, 2 * n):
                f = tmp / f"growth_{k}.pf"
                f.write_text(make(k), encoding="utf-8")
                times.append(best_of(2, proofcheck("--no-cache", "--quiet", str(f))) - startup)
            row(f"{2 * n:,} / {n:,} {label} (time after start-up, best of 2)",
                f"{times[1]:.2f} s / {times[0]:.2f} s = {times[1] / times[0]:.2f}x", "<= 2.2x",
                times[1] / times[0] <= 2.2)

        growth("different claims", lambda k: claims_file(k, False), 1000)
        growth("matrix claims", matrix_file, 40)
        growth("chain steps", chain_file, 500)

        chain = tmp / "chain_1000.pf"
        chain.write_text(chain_file(1000), encoding="utf-8")
        cwall = timed(proofcheck("--no-cache", "--quiet", str(chain)))[0]
        row("a 1,000-step equality chain", f"{cwall:.2f} s = {cwall / base:.1f}x import", "<= 5 s", cwall <= 5.0)

        named, unnamed = tmp / "named_1000.pf", tmp / "unnamed_1000.pf"
        named.write_text(claims_file(1000, True), encoding="utf-8")
        unnamed.write_text(claims_file(1000, False), encoding="utf-8")
        nwall = timed(proofcheck("--no-cache", "--quiet", str(named)))[0]
        uwall = timed(proofcheck("--no-cache", "--quiet", str(unnamed)))[0]
        row("1,000 named claims / 1,000 unnamed", f"{nwall:.2f} s / {uwall:.2f} s = {nwall / uwall:.2f}x",
            "<= 1.2x", nwall / uwall <= 1.2)

        if not args.skip_big:
            big = tmp / "big_5mb.pf"
            n = BIG_BYTES // len(BIG_CLAIM)
            big.write_text("let x : real\n" + BIG_CLAIM * n, encoding="utf-8")
            bwall, rss_kb, _, status = timed(proofcheck("--no-cache", "--quiet", str(big)), timeout=args.big_timeout)
            mb = rss_kb / 1024
            if status is None:
                row(f"5 MB file ({n:,} repeated claims)", f"killed after {bwall:.0f} s (peak {mb:.0f} MB)",
                    "<= 60 s", False)
            else:
                row(f"5 MB file ({n:,} repeated claims)", f"{bwall:.1f} s (exit {status})", "<= 60 s",
                    bwall <= 60.0)
            row("5 MB file, peak memory (largest process)", f"{mb:.0f} MB", "<= 400 MB", mb <= 400)

        lps = speed.parser_lines_per_second()
        row("parser, 20,000-line mixed file (best of 3)", f"{lps:,.0f} lines/s",
            f">= {speed.TARGET_LINES_PER_SECOND:,} lines/s", lps >= speed.TARGET_LINES_PER_SECOND)

    widths = [max(len(r[i]) for r in rows + [("measure", "value", "target", "met?")]) for i in range(4)]
    header = ("measure", "value", "target", "met?")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    met = sum(r[3] == "yes" for r in rows[1:])
    print(f"{met} of {len(rows) - 1} targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
