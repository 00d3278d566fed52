"""Parser speed: lines per second of `parse_document` on generated files, in process.

    python bench/speed.py            # lines/s per kind of file, and growth with size
    python bench/speed.py --profile  # cProfile of one 20,000-line mixed file

The files are generated (seeded, so every run reads the same text): `mixed` is the
ordinary file the target is about (named and unnamed claims, theorems with chains,
comments); `named` 1 claim a line with a name each; `chain` one theorem with a long
equality chain; `repeated` one claim written over and over (the 5 MB case); `unicode`
lines with `≤`, `²`, Greek names (these go through Lark, memoized per distinct line).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_LINES_PER_SECOND = 20_000


def mixed(n_lines: int, seed: int = 0) -> str:
    """Claims and theorems with chains, as people write them."""
    r = random.Random(seed)
    out = ["# generated: claims and chains", "let x, y, z : real", "let p, q : real, positive",
           "fun f, g : real -> real", ""]
    i = 0
    while len(out) < n_lines:
        i += 1
        k = r.randint(1, 50)
        c = r.random()
        if c < 0.35:
            out.append(f"claim c{i} : (x + {k})^2 = x^2 + {2 * k}*x + {k * k}")
        elif c < 0.45:
            out.append(f"claim : |f(x) - f(y)| <= {k}*|x - y| by lip_f  # cited")
        elif c < 0.5:
            out.append(f"claim p{i} : p*q + {k} > 0 and x^2 + {k} >= {k}")
        else:
            out += [f"theorem t{i} : (x + y)^2 + {k}*p >= 0", "proof",
                    f"  (x + y)^2 + {k}*p", f"    = x^2 + 2*x*y + y^2 + {k}*p",
                    f"    >= (x + y)^2 + {k - 1}*p   # drop one p", "    >= 0", "qed", ""]
    return "\n".join(out[:n_lines]) + "\n"


def named(n_lines: int) -> str:
    return "let x : real\n" + "".join(f"claim c{i} : (x + {i})^2 = x^2 + {2 * i}*x + {i * i}\n"
                                      for i in range(1, n_lines))


def chain(n_lines: int) -> str:
    steps = [f"  = (x + {i})^2 - {2 * i}*x - {i * i}" if i % 2 else f"  = x^2 + {i}*y - {i}*y"
             for i in range(1, n_lines - 5)]
    return "\n".join(["let x, y : real", "theorem t : x^2 = x^2", "proof", "  x^2", *steps, "  = x^2", "qed"]) + "\n"


def repeated(n_lines: int) -> str:
    return "let x : real\n" + "claim : (x + 1)^2 = x^2 + 2*x + 1\n" * (n_lines - 1)


def unicode(n_lines: int) -> str:
    r = random.Random(1)
    lines = ["let x, y, α : real"]
    for i in range(1, n_lines):
        k = r.randint(1, 9)
        lines.append(r.choice([f"claim u{i} : x² + {k} ≥ {k}", f"claim : α·x ≤ α·x + {k}",
                               f"claim : |x| + {k} ≥ 0"]))
    return "\n".join(lines) + "\n"


KINDS = {"mixed": mixed, "named": named, "chain": chain, "repeated": repeated, "unicode": unicode}


def lines_per_second(text: str, repeat: int = 3) -> float:
    """Best of `repeat` runs of parse_document on `text`."""
    from proofcheck.parse import lark_parser, parse_document
    lark_parser()  # built (or loaded from its cache) once, as in a real run
    lines = text.count("\n")
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        parse_document(text)
        best = min(best, time.perf_counter() - t)
    return lines / best


def parser_lines_per_second(n_lines: int = 20_000) -> float:
    """The figure bench/run.py reports: a 20,000-line mixed file."""
    return lines_per_second(mixed(n_lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if args.profile:
        import cProfile
        import pstats
        from proofcheck.parse import lark_parser, parse_document
        lark_parser()
        text = mixed(args.lines)
        cProfile.runctx("parse_document(text)", globals(), {"parse_document": parse_document, "text": text},
                        "/tmp/proofcheck-parse.prof")
        pstats.Stats("/tmp/proofcheck-parse.prof").sort_stats("cumulative").print_stats(25)
        return 0
    print(f"{'file':10} {'lines':>8} {'lines/s':>10} {'x4 lines':>10} {'growth':>7}")
    for kind, make in KINDS.items():
        small = lines_per_second(make(args.lines))
        big = lines_per_second(make(4 * args.lines), repeat=1)
        # growth: time for 4x the lines over 4x the time of the small file (1.0 = linear)
        print(f"{kind:10} {args.lines:8d} {small:10.0f} {big:10.0f} {small / big:7.2f}")
    print(f"target: >= {TARGET_LINES_PER_SECOND} lines/s on `mixed`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
