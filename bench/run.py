"""Benchmark: every file in proofs/, a generated 200-step file, and start-up time.

Run from the project root after installing:  python bench/run.py
Wall times include process start-up, as a user sees them.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generated_file(steps: int = 200) -> str:
    """A chain of `steps` small steps, alternating an expansion and a bound."""
    k = steps // 2
    out = ["let x, y : real", "let p : real, positive", "",
           f"theorem long : (x + y)^2 + {k}*p >= 0", "proof", f"  (x + y)^2 + {k}*p"]
    written = 0
    while written < steps - 1:
        out.append(f"    = x^2 + 2*x*y + y^2 + {k}*p")
        k -= 1
        out.append(f"    >= (x + y)^2 + {k}*p")
        written += 2
    out += ["    >= 0", "qed", ""]
    return "\n".join(out)


def run(args) -> tuple[float, dict | None]:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "proofcheck", *args], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    try:
        return wall, json.loads(p.stdout)
    except json.JSONDecodeError:
        return wall, None


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "trivial.pf"
        trivial.write_text("let x : real\nclaim c : x = x\n")
        startup = min(run([str(trivial), "--format", "json"])[0] for _ in range(3))
        print(f"start-up (a one-line file, best of 3): {startup:.3f} s")
        gen = Path(tmp) / "generated_200_steps.pf"
        gen.write_text(generated_file(200))
        files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "proofs").rglob("*.pf")) + [str(gen)]
        step_times = []
        print(f"{'file':48} {'wall s':>7} {'steps':>6} {'median':>8} {'worst':>8}  verdicts")
        for f in files:
            wall, doc = run([f, "--format", "json"])
            if doc is None:
                print(f"{f:48} {wall:7.2f}  (no JSON output)")
                continue
            times = [s["seconds"] for fd in doc["files"] for it in fd["items"] for s in it["steps"]]
            step_times += times
            med = statistics.median(times) if times else 0.0
            worst = max(times) if times else 0.0
            summary = {k: v for k, v in doc["summary"].items() if k != "seconds" and v}
            name = f if len(f) <= 48 else "…" + f[-47:]
            print(f"{name:48} {wall:7.2f} {len(times):6d} {med:8.4f} {worst:8.4f}  {summary}")
        wall, doc = run(["proofs", "--format", "json"])
        print(f"whole of proofs/ in one run: {wall:.2f} s wall")
        if step_times:
            print(f"all steps: {len(step_times)}, median {statistics.median(step_times):.4f} s, "
                  f"worst {max(step_times):.4f} s (per step, inside a worker)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
