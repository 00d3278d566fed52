"""Latency of `proofcheck lsp` after an edit, end to end over stdio.

A real LSP client (pygls's, as pytest-lsp uses it) starts `proofcheck lsp`, opens a
file of 100 steps (10 theorems of 10 steps, declarations, facts), waits for its
diagnostics, then edits one step at a time: breaks it, then repairs it with new
text. For each edit it measures the time from sending `didChange` to receiving the
`publishDiagnostics` that shows the edited step's new verdict (the refutation, or
its absence). The server's debounce (150 ms by default) is part of what a user
waits for; it is reported separately and can be set with --debounce.

    .venv/bin/python bench/lsp.py [--edits 10] [--debounce 0.15]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from lsprotocol import types as T
from pygls.lsp.client import LanguageClient

HEAD = """# a 100-step file for the latency benchmark
let x, y, z : real
let a, b : real, positive
let L : real, nonneg
fun f : real -> real
assume lip_f : forall u, v: |f(u) - f(v)| <= L*|u - v|
"""


def step_text(k: int, i: int, variant: int = 0, broken: bool = False) -> str:
    """Step i of theorem k: each keeps the value (x + k)^2 + (y - i)^2 … written differently."""
    c = 1000 * variant + i + 1
    kinds = [f"= (x + {k})^2 + (y + {c})^2 - y^2 - {2 * c}*y - {c * c}",
             f"= x^2 + {2 * k}*x + {k * k} + (y + {c})*(y + 1) - y^2 - {c + 1}*y - {c}",
             f"= (x + {k})^2 + ({c}*a + {c})/(a + 1) - {c}"]
    t = kinds[i % 3]
    if broken:
        t = t + " + 1"
    return "    " + t


def document(edits: dict | None = None) -> tuple[str, list]:
    """(text, step lines): 10 theorems × 10 steps, every step proved."""
    edits = edits or {}
    lines = HEAD.rstrip("\n").split("\n")
    step_lines = []
    for k in range(1, 11):
        lines += ["", f"theorem t{k} : (x + {k})^2 = (x + {k})^2", "proof", f"  (x + {k})^2"]
        for i in range(10):
            variant, broken = edits.get((k, i), (0, False))
            st = step_text(k, i, variant, broken)
            if i == 9:
                st = f"    = (x + {k})^2" + (" + 1" if broken else "") + (f" + {variant} - {variant}" if variant else "")
            step_lines.append(len(lines))
            lines.append(st)
        lines.append("qed")
    return "\n".join(lines) + "\n", step_lines


async def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--edits", type=int, default=10, help="edited steps (each broken, then repaired)")
    p.add_argument("--debounce", type=float, default=0.15)
    args = p.parse_args(argv)

    client = LanguageClient("bench", "1")
    published: list = []
    got = asyncio.Event()

    @client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: T.PublishDiagnosticsParams):
        published.append((time.monotonic(), params.version, params.diagnostics))
        got.set()

    started = time.monotonic()
    await client.start_io(sys.executable, "-m", "proofcheck", "lsp", "--debounce", str(args.debounce))
    server = client._server

    async def forward_stderr():  # the server's log (PROOFCHECK_LSP_LOG=INFO shows its timings)
        while server is not None and server.stderr is not None and (line := await server.stderr.readline()):
            sys.stderr.buffer.write(line)
            sys.stderr.flush()
    stderr_task = asyncio.create_task(forward_stderr())
    await client.initialize_async(T.InitializeParams(capabilities=T.ClientCapabilities()))
    client.initialized(T.InitializedParams())
    uri = "file:///tmp/bench-lsp/hundred.pf"
    edits: dict = {}
    text, step_lines = document(edits)
    assert len(step_lines) == 100
    version = 1
    t0 = time.monotonic()
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=uri, language_id="pf", version=1, text=text)))

    async def wait(pred, since, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, v, diags in published[since:]:
                if v == version and pred(diags):
                    return at
            got.clear()
            try:
                await asyncio.wait_for(got.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
        raise SystemExit(f"no diagnostics for version {version} within {timeout} s: {published[-3:]}")

    # the first check of the whole file: every step decided
    await wait(lambda ds: True, 0)
    await asyncio.sleep(0.5)
    first = published[-1][0] - t0
    print(f"server start to initialized and open: {t0 - started:.2f} s; first full check of 100 steps: "
          f"{first:.2f} s, {len(published[-1][2])} diagnostics")

    lat_break, lat_settled, lat_fix = [], [], []
    targets = [(k, i) for k in range(1, 11) for i in (1, 4, 7)][:args.edits]
    for n, (k, i) in enumerate(targets):
        line = step_lines[(k - 1) * 10 + i]
        for broken in (True, False):
            edits[(k, i)] = (n + 1, broken)
            new, _ = document(edits)
            version += 1
            mark = len(published)
            t = time.monotonic()
            client.text_document_did_change(T.DidChangeTextDocumentParams(
                text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[T.TextDocumentContentChangeWholeDocument(text=new)]))
            if broken:
                at = await wait(lambda ds: any(d.range.start.line == line and d.code == "refuted" for d in ds), mark)
                lat_break.append(at - t)
                at = await wait(lambda ds: any(d.range.start.line == line and d.code == "refuted"
                                               and "looking for" not in d.message for d in ds), mark)
                lat_settled.append(at - t)
            else:
                # the server publishes as steps are decided: the repair is settled at the
                # last publication of this version (none follows within a second)
                await wait(lambda ds: not ds, mark)
                await asyncio.sleep(1.0)
                mine = [at for at, v, ds in published[mark:] if v == version]
                assert not published[-1][2], "the repaired step still has a diagnostic"
                lat_fix.append(mine[-1] - t)
            await asyncio.sleep(0.3)
    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.sleep(0.2)
    await client.stop()
    stderr_task.cancel()

    def show(name, xs):
        xs = sorted(xs)
        print(f"{name}: median {statistics.median(xs) * 1000:.0f} ms, max {xs[-1] * 1000:.0f} ms (n = {len(xs)})")
    print(f"debounce {args.debounce * 1000:.0f} ms (the first change after a quiet spell is checked at once)")
    show("edit breaks a step  -> its refutation published          ", lat_break)
    show("edit breaks a step  -> settled (no fact in scope proves it)", lat_settled)
    show("edit repairs a step -> settled, its diagnostic cleared     ", lat_fix)


if __name__ == "__main__":
    asyncio.run(main())
