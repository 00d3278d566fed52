"""The `proofcheck` command."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="proofcheck",
        description="Check step-by-step derivations written in the .pf proof language.",
        epilog="Grading a class: proofcheck grade ASSIGNMENT.pf SUBMISSION… (see proofcheck grade --help).")
    p.add_argument("paths", nargs="*", metavar="PATH", help=".pf files, or folders (every *.pf inside, sorted)")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                   help="report format (default: text; sarif: SARIF 2.1.0 for code scanning)")
    p.add_argument("--stdin", action="store_true", help="check the text on standard input (for editors' linters)")
    p.add_argument("--stdin-filename", default=None, metavar="NAME",
                   help="the name to report for the text read with --stdin (default: <stdin>)")
    p.add_argument("--strict", action="store_true", help="only `proved` passes (`checked` fails)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                   help="time limit per step (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="seed for the random test points (default: 0)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: up to 2)")
    p.add_argument("--no-color", action="store_true", help="plain text, no colours")
    p.add_argument("--quiet", action="store_true", help="print only the summary lines")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress line on standard error (drawn only on a terminal, for runs over 2 s)")
    p.add_argument("--no-cache", action="store_true",
                   help="decide every step again instead of reading verdicts from the cache")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="where the verdict cache lives (default: .proofcheck-cache in the working directory)")
    p.add_argument("--version", action="version", version=f"proofcheck {__version__}")
    return p


def collect(paths) -> tuple:
    """(files, problems): .pf files in order, and unreadable paths with reasons."""
    files, problems = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob("*.pf"))
            if not found:
                problems.append((raw, "no .pf files in this folder"))
            files.extend(str(f) for f in found)
        elif path.is_file():
            files.append(raw)
        else:
            problems.append((raw, "no such file or folder"))
    return files, problems


def _fixed_hash_seed(argv) -> None:
    """Same input, same verdict: SymPy orders terms partly by Python's string
    hashes, which are randomised per process. Run the command with a fixed hash
    seed (one re-exec, about 20 ms) so that no search depends on it."""
    if argv is None and os.environ.get("PYTHONHASHSEED") != "0" and not os.environ.get("PROOFCHECK_NO_REEXEC"):
        env = dict(os.environ, PYTHONHASHSEED="0", PROOFCHECK_NO_REEXEC="1")
        try:
            sys.stdout.flush()
            os.execve(sys.executable, [sys.executable, "-m", "proofcheck", *sys.argv[1:]], env)
        except OSError:
            pass  # no re-exec: still correct, only the hash seed is random


def _file_error(path, text, exc):
    """A file that could not be checked at all, as one error item."""
    from .results import FileResult, ItemResult
    from .span import Span
    from .verdict import ERROR, Verdict
    item = ItemResult("file", None, Span(1, 1, 1, 2), "")
    why = "it took longer than the time limit" if type(exc).__name__ == "OutOfTime" else \
        f"an internal error ({type(exc).__name__}); please report it"
    item.own = Verdict(ERROR, "limits" if type(exc).__name__ == "OutOfTime" else "internal",
                       f"this file could not be checked: {why}")
    item.status, item.message = ERROR, item.own.message
    return FileResult(path, [item], 0.0, ERROR, text.split("\n"))


def _write(text: str, stream) -> bool:
    """Print `text`; False when the reader has gone (`proofcheck … | head -1`)."""
    try:
        print(text, file=stream)
        stream.flush()
        return True
    except BrokenPipeError:
        # nobody reads any more: point the stream at /dev/null so that Python's
        # final flush does not fail with a traceback either
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            pass
        return False


def open_cache(args):
    """The verdict cache the options ask for, or None."""
    if args.no_cache:
        return None
    from .cache import DEFAULT_DIR, VerdictCache
    return VerdictCache(args.cache_dir or DEFAULT_DIR)


def _checked(texts, options, jobs, cache, progress=None) -> list:
    """FileResults in the order of `texts`: an unchanged file read whole from the
    cache (no parsing, no SymPy: the checker is imported only when a file needs it),
    the others checked together on one pool of workers, then stored."""
    results = [cache.get_file(path, text, options) if cache is not None else None for path, text in texts]
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        from .lazy import defer_sympy_tensor
        defer_sympy_tensor()  # before SymPy builds its first sum: 20 ms less at every start
        from .runner import Runner
        with Runner(jobs) as runner:
            from .check import check_files
            fresh = check_files([texts[i] for i in todo], options, runner, cache, on_error=_file_error,
                                keep_tree=False,  # the reports need no syntax tree
                                progress=progress)
        for i, r in zip(todo, fresh):
            results[i] = r
            if cache is not None:
                cache.put_file(texts[i][1], options, r)
    return results


def run() -> None:
    """The console command. Checking ends with os._exit: Python's own shutdown
    (freeing SymPy's caches object by object) costs 0.1 s and decides nothing;
    by then every output is flushed, the cache closed and every worker stopped.
    `grade` and `lsp` (Dask clusters, servers) end the ordinary way."""
    if sys.argv[1:2] in (["grade"], ["lsp"]):
        raise SystemExit(main())
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code if isinstance(code, int) else 1)


def main(argv=None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C: by now the progress line is erased and the workers stopped
        _write("proofcheck: interrupted", sys.stderr)
        return 130


def _main(argv=None) -> int:
    _fixed_hash_seed(argv)
    rest = sys.argv[1:] if argv is None else list(argv)
    if rest and rest[0] == "grade":
        from .grade_cli import main as grade_main
        return grade_main(rest[1:])
    if rest and rest[0] == "lsp":
        from .lsp import main as lsp_main
        return lsp_main(rest[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if not args.paths and not args.stdin:
        parser.error("give .pf files or folders, or --stdin")
    if args.stdin and args.paths:
        parser.error("--stdin reads standard input: give no PATH with it")
    started = time.monotonic()
    files, problems = collect(args.paths)
    texts = []
    if args.stdin:
        data = sys.stdin.buffer.read()
        try:
            # the newlines a file read by path gets (universal newlines: \r\n and \r are \n)
            text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
            texts.append((args.stdin_filename or "<stdin>", text))
        except UnicodeDecodeError:
            problems.append((args.stdin_filename or "<stdin>", "cannot read: not UTF-8 text"))
    for f in files:
        try:
            texts.append((f, Path(f).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append((f, f"cannot read: {exc.strerror if isinstance(exc, OSError) else 'not UTF-8 text'}"))
    for path, why in problems:
        _write(f"proofcheck: {path}: {why}", sys.stderr)

    from .results import Options
    from .verdict import passes
    options = Options(timeout=args.timeout, seed=args.seed, strict=args.strict, jobs=args.jobs)
    cache = open_cache(args)
    from .progress import Progress, wanted
    progress = Progress(sys.stderr) if not args.no_progress and wanted(sys.stderr) else None
    try:
        results = _checked(texts, options, args.jobs, cache, progress)
    finally:
        if progress is not None:
            progress.clear()
        if cache is not None:
            cache.close()
    seconds = time.monotonic() - started
    if args.format == "json":
        from .report_json import render
        _write(render(results, seconds), sys.stdout)
    elif args.format == "sarif":
        from .report_sarif import render as render_sarif
        _write(render_sarif(results, seconds), sys.stdout)
    else:
        from .report_text import Style, render_run
        color = sys.stdout.isatty() and not args.no_color and "NO_COLOR" not in os.environ
        _write(render_run(results, seconds, Style(color), args.quiet), sys.stdout)
    if problems:
        return 2
    ok = all(passes(item.status, args.strict) for fr in results for item in fr.items)
    return 0 if ok else 1
