"""`proofcheck lsp`: a Language Server Protocol server over stdio (pygls 2).

Two threads. The protocol runs on a background thread (pygls's asyncio loop); the
checking runs on the main thread (lsp_engine: elaboration keeps its time limit,
which needs the main thread), with decisions in worker processes. They talk through
one queue (`Engine.inbox`) one way and `loop.call_soon_threadsafe` the other way.

Guarantees:
- only protocol goes to stdout: the real stdout is kept for the protocol and
  file descriptor 1 points at stderr (so do the workers');
- a change is debounced; a newer version of a document cancels the check of the
  older one (the tasks they share are decided once); a set of diagnostics is
  published only while its version is the document's latest;
- diagnostics are published as steps are decided (a slow step delays no other),
  then settled once every step of the version is in (citations carry verdicts).
"""
from __future__ import annotations

import asyncio
import logging
import os
import queue
import sys
import threading
import time
from urllib.parse import unquote, urlparse

from . import __version__

log = logging.getLogger("proofcheck.lsp")

DEBOUNCE = 0.15       # seconds of quiet after a change before checking
PUBLISH_EVERY = 0.05  # at most one provisional publication per document per this


def _utf16_col(line: str, col: int) -> int:
    """A code-point column as UTF-16 code units (LSP's default position encoding)."""
    head = line[:col]
    return col + sum(1 for ch in head if ord(ch) > 0xFFFF)


def _cp_col(line: str, col16: int) -> int:
    """A UTF-16 column as a code-point column."""
    units = 0
    for i, ch in enumerate(line):
        if units >= col16:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def _path_of(uri: str) -> str:
    try:
        p = urlparse(uri)
        if p.scheme == "file":
            return os.path.basename(unquote(p.path)) or uri
    except ValueError:
        pass
    return uri


class DocState:
    def __init__(self, uri):
        self.uri = uri
        self.version = None
        self.text = ""
        self.check = None        # the current (latest started) Check
        self.shown = None        # the last Check whose diagnostics were published
        self.last_publish = 0.0
        self.index = None        # lsp_index.Index of the last check's text
        self.index_version = None


class Engine:
    """The checking side: runs on the thread that calls `run()` (the main thread)."""

    def __init__(self, options, jobs, publish, workspace=None):
        from .lsp_engine import MemoryCache, Pool
        self.options = options
        self.pool = Pool(jobs)
        self.cache = MemoryCache(workspace)
        self.publish = publish          # publish(uri, version, diagnostics): thread-safe
        self.inbox: queue.Queue = queue.Queue()
        self.docs: dict = {}            # uri -> DocState (written by the protocol thread)
        self.lock = threading.Lock()

    # -- called from the protocol thread
    def update(self, uri, version, text):
        with self.lock:
            st = self.docs.setdefault(uri, DocState(uri))
            st.version, st.text = version, text
        self.inbox.put(("check", uri))

    def close_doc(self, uri):
        self.inbox.put(("close", uri))

    def stop(self):
        self.inbox.put(("stop",))

    def state(self, uri):
        with self.lock:
            return self.docs.get(uri)

    # -- the engine thread
    def _post(self, check, kind, i, key, verdict):
        self.inbox.put(("result", check, kind, i, key, verdict))

    def run(self):
        self.pool.start()
        dirty: set = set()
        while True:
            try:
                ev = self.inbox.get(timeout=PUBLISH_EVERY if dirty else None)
            except queue.Empty:
                ev = None
            if ev is not None:
                if ev[0] == "stop":
                    break
                try:
                    self._handle(ev, dirty)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException:  # noqa: BLE001 - the server goes on
                    log.exception("while handling %s", ev[0])
                if not self.inbox.empty():
                    continue   # take what is already there before publishing
            for uri in list(dirty):
                st = self.state(uri)
                if st is None or st.check is None:
                    dirty.discard(uri)
                    continue
                c = st.check
                now = time.monotonic()
                if not c.finished and now - st.last_publish < PUBLISH_EVERY:
                    continue
                dirty.discard(uri)
                if c.dirty:
                    c.dirty = False
                    st.last_publish = now
                    st.shown = c
                    diags = c.diagnostics()
                    log.info("%s v%s: publish %d diagnostics at %.0f ms%s", uri, c.version, len(diags),
                             1000 * (now - c.started), " (settled)" if c.finished else "")
                    self.publish(uri, c.version, diags)
        self.pool.close()
        self.cache.close()

    def _handle(self, ev, dirty):
        from .lsp_engine import Check
        kind = ev[0]
        if kind == "check":
            uri = ev[1]
            with self.lock:
                st = self.docs.get(uri)
                if st is None:
                    return
                version, text = st.version, st.text
            old = st.check
            if old is not None and old.version == version and old.text == text:
                return
            check = Check(uri, version, text, _path_of(uri), self.options, self.pool, self.cache, self._post)
            st.check = check
            t = time.monotonic()
            check.start()           # subscribes first: tasks shared with the old check keep running
            log.info("%s v%s: read in %.0f ms, %d tasks, %d to decide", uri, version, 1000 * (time.monotonic() - t),
                     len(check.tasks), len(check.waiting))
            if old is not None and not old.finished:
                old.cancel()
            dirty.add(uri)
        elif kind == "result":
            _, check, which, i, key, verdict = ev
            check.on_result(which, i, key, verdict)
            st = self.state(check.uri)
            if st is not None and st.check is check:
                dirty.add(check.uri)
        elif kind == "close":
            uri = ev[1]
            with self.lock:
                st = self.docs.pop(uri, None)
            if st is not None and st.check is not None:
                st.check.cancel()
            dirty.discard(uri)


# ------------------------------------------------------------------ protocol
def make_server(engine_box: dict):
    from lsprotocol import types as T
    from pygls.lsp.server import LanguageServer

    server = LanguageServer("proofcheck", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
    timers: dict = {}
    loop_box: dict = {}

    def engine():
        return engine_box["engine"]

    last_fired: dict = {}

    def schedule(uri, delay):
        """Check `uri` after `delay` seconds of quiet; the first change after a quiet
        spell is checked at once (a newer version cancels that check anyway)."""
        loop = asyncio.get_running_loop()
        loop_box["loop"] = loop
        h = timers.pop(uri, None)
        if h is not None:
            h.cancel()
        elif loop.time() - last_fired.get(uri, -1e9) >= delay:
            delay = 0

        def fire():
            timers.pop(uri, None)
            last_fired[uri] = loop.time()
            try:
                doc = server.workspace.get_text_document(uri)
                engine().update(uri, doc.version, doc.source)
            except Exception:  # noqa: BLE001
                log.exception("could not read %s", uri)
        if delay <= 0:
            fire()
        else:
            timers[uri] = loop.call_later(delay, fire)

    def publish(uri, version, diagnostics):
        """From the engine thread: send on the protocol thread, if still the latest version."""
        loop = loop_box.get("loop")
        if loop is None:
            return

        def send():
            try:
                doc = server.workspace.get_text_document(uri)
            except Exception:  # noqa: BLE001
                return
            if doc.version != version:
                return   # a newer version exists (or is about to be checked): never show stale results
            lines = doc.lines
            diags = []
            for d in diagnostics:
                diags.append(_to_lsp(T, d, lines))
            server.text_document_publish_diagnostics(
                T.PublishDiagnosticsParams(uri=uri, diagnostics=diags, version=version))
        try:
            loop.call_soon_threadsafe(send)
        except RuntimeError:
            pass   # the loop has closed

    engine_box["publish"] = publish

    @server.feature(T.INITIALIZE)
    def initialize(ls, params: T.InitializeParams):
        loop_box["loop"] = asyncio.get_running_loop()
        opts = params.initialization_options or {}
        if isinstance(opts, dict):
            engine_box["init_options"] = opts

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: T.DidOpenTextDocumentParams):
        schedule(params.text_document.uri, 0)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: T.DidChangeTextDocumentParams):
        schedule(params.text_document.uri, engine_box.get("debounce", DEBOUNCE))

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls, params: T.DidSaveTextDocumentParams):
        uri = params.text_document.uri
        if uri not in timers:
            schedule(uri, 0)   # the engine skips it when this version is already checked

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: T.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        h = timers.pop(uri, None)
        if h is not None:
            h.cancel()
        engine().close_doc(uri)
        server.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: T.HoverParams):
        return _guard(lambda: _hover(T, server, engine(), params), None)

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls, params: T.DefinitionParams):
        return _guard(lambda: _definition(T, server, engine(), params), None)

    @server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=[" ", ","]))
    def completion(ls, params: T.CompletionParams):
        return _guard(lambda: _completion(T, server, engine(), params), None)

    @server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(ls, params: T.DocumentSymbolParams):
        return _guard(lambda: _symbols(T, server, engine(), params), [])

    @server.feature(T.TEXT_DOCUMENT_CODE_ACTION,
                    T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
    def code_action(ls, params: T.CodeActionParams):
        return _guard(lambda: _code_actions(T, server, engine(), params), [])

    @server.feature(T.EXIT)
    def on_exit(ls, *args):
        engine().stop()

    return server


def _guard(f, default):
    try:
        return f()
    except Exception:  # noqa: BLE001 - a request must never bring the server down
        log.exception("request failed")
        return default


def _to_lsp(T, d: dict, lines):
    r = d["range"]

    def pos(p):
        line = p["line"]
        text = lines[line] if 0 <= line < len(lines) else ""
        return T.Position(line=max(0, line), character=_utf16_col(text.rstrip("\r\n"), max(0, p["character"])))
    return T.Diagnostic(range=T.Range(start=pos(r["start"]), end=pos(r["end"])), message=d["message"],
                        severity=T.DiagnosticSeverity(d["severity"]), source=d["source"], code=d["code"])


# ------------------------------------------------------------------ requests
def _at_cursor(server, engine, params):
    """(document, line, its text, the cursor's column in code points, the index of
    the last checked text or None, that check) for a request at a position."""
    doc = server.workspace.get_text_document(params.text_document.uri)
    line = params.position.line
    text = doc.lines[line].rstrip("\r\n") if 0 <= line < len(doc.lines) else ""
    idx, check = _index(engine, params.text_document.uri)
    return doc, line, text, _cp_col(text, params.position.character), idx, check


def _index(engine, uri):
    """The index of the document's last checked text (parsed on the engine thread)."""
    from . import lsp_index
    st = engine.state(uri)
    if st is None or st.check is None:
        return None, None
    c = st.check if st.check.doc is not None else st.shown
    if c is None or c.doc is None:
        return None, None
    if st.index_version is not c:
        st.index = lsp_index.build(c.doc)
        st.index_version = c
    return st.index, c


def _range(T, span, lines):
    def p(line, col):
        text = lines[line - 1].rstrip("\r\n") if 0 < line <= len(lines) else ""
        return T.Position(line=max(0, line - 1), character=_utf16_col(text, max(0, col - 1)))
    return T.Range(start=p(span.line, span.column), end=p(span.end_line, span.end_column))


def _steps_at(check, line1, col1):
    """(item, step) pairs whose step span contains the position; items when no step does."""
    items = check.items if check.finished else (check.checker.items if check.checker else [])
    found = []
    for item in items:
        for stp in item.steps:
            s = stp.span
            if (s.line, s.column) <= (line1, col1) <= (s.end_line, s.end_column) or \
                    (s.line <= line1 <= s.end_line and s.line != s.end_line):
                found.append((item, stp))
    return found


def _hover(T, server, engine, params):
    from . import lsp_index
    doc, line, text, col, idx, check = _at_cursor(server, engine, params)
    if idx is None:
        return None
    import re
    w = lsp_index.word_at(text, col)
    hits = _steps_at(check, line + 1, col + 1)
    if w is not None:
        name = idx.lookup(w[0], line + 1)
        cited = re.search(r"(^|\s)by\s+([^\W\d]\w*\s*,\s*)*$", text[:w[1]]) is not None
        if name is not None and (cited or not hits):
            md = f"**{name.kind}** `{name.name}`\n\n```\n{name.text}\n```"
            status = _item_status(check, name)
            if status:
                md += f"\n\nverdict: **{status}**"
            return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=md),
                           range=T.Range(start=T.Position(line=line, character=_utf16_col(text, w[1])),
                                         end=T.Position(line=line, character=_utf16_col(text, w[2]))))
    if not hits:
        return None
    item, stp = hits[-1]
    v = check.step_verdict(stp)
    lines_md = [f"`{stp.lhs} {stp.relation} {stp.rhs}`", ""]
    if v is None:
        lines_md.append("*being checked…*")
    else:
        head = f"**{v.status}**"
        if v.method:
            head += f" · {v.method}"
        if v.seconds:
            head += f" · {v.seconds:.3g} s"
        elif stp.task is not None and stp.task in check.cached:
            head += " · from the cache"
        lines_md.append(head)
        if v.message:
            lines_md += ["", v.message]
        if v.counterexample:
            lines_md += ["", "counterexample: " + ", ".join(f"`{k} = {x}`" for k, x in v.counterexample.items())]
        uses = v.detail.get("uses") if isinstance(v.detail, dict) else None
        if uses:
            lines_md += ["", "facts used:"]
            for n in uses:
                decl = idx.lookup(n, stp.span.line)
                lines_md.append(f"- `{n}`" + (f": `{decl.text}`" if decl is not None else " (built in)"))
        insts = v.detail.get("instances") if isinstance(v.detail, dict) else None
        if insts:
            lines_md += ["", "instances:"] + [f"- `{x}`" for x in insts]
        if v.detail.get("suggested"):
            lines_md += ["", "quick fix: cite " + ", ".join(f"`{n}`" for n in v.detail["suggested"])]
    if check.version != doc.version:
        lines_md += ["", "*(the document has changed since; checking it again)*"]
    from .lsp_engine import _clean
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=_clean("\n".join(lines_md))),
                   range=_range(T, stp.span, doc.lines))


def _item_status(check, name):
    if not check.finished:
        return None
    for item in check.items:
        if item.name == name.name and item.span.line == name.statement.line:
            return item.status
    return None


def _definition(T, server, engine, params):
    from . import lsp_index
    doc, line, text, col, idx, check = _at_cursor(server, engine, params)
    if idx is None:
        return None
    w = lsp_index.word_at(text, col)
    if w is None:
        return None
    name = idx.lookup(w[0], line + 1)
    if name is None:
        return None
    return [T.Location(uri=params.text_document.uri, range=_range(T, name.span, doc.lines))]


def _completion(T, server, engine, params):
    import re
    from . import lsp_index
    doc, line, text, col, idx, check = _at_cursor(server, engine, params)
    before = text[:col]
    items = []
    if re.search(r"(^|\s)by\s+([^\W\d]\w*\s*,\s*)*[^\W\d]?\w*$", before):
        from .elaborate import BUILTIN_FACTS
        seen = set()
        for n in (idx.citable(line + 1) if idx else []):
            if n.name not in seen:
                seen.add(n.name)
                items.append(T.CompletionItem(label=n.name, kind=T.CompletionItemKind.Reference,
                                              detail=n.kind, documentation=n.text))
        for b in sorted(BUILTIN_FACTS):
            if b not in seen:
                items.append(T.CompletionItem(label=b, kind=T.CompletionItemKind.Reference, detail="built-in fact"))
        return T.CompletionList(is_incomplete=False, items=items)
    if text[:col].lstrip().startswith("#"):
        return None
    seen = set()
    for n in (idx.declared() if idx else []):
        if n.name not in seen:
            seen.add(n.name)
            kind = T.CompletionItemKind.Variable if n.kind == "variable" else T.CompletionItemKind.Function
            items.append(T.CompletionItem(label=n.name, kind=kind, detail=n.kind, documentation=n.text))
    for f in lsp_index.BUILTIN_FUNCTIONS:
        items.append(T.CompletionItem(label=f, kind=T.CompletionItemKind.Function, detail="built-in"))
    for k in lsp_index.KEYWORDS:
        items.append(T.CompletionItem(label=k, kind=T.CompletionItemKind.Keyword))
    return T.CompletionList(is_incomplete=False, items=items)


def _symbols(T, server, engine, params):
    from . import syntax as S
    doc = server.workspace.get_text_document(params.text_document.uri)
    idx, check = _index(engine, params.text_document.uri)
    if idx is None:
        return []
    kinds = {"variable": T.SymbolKind.Variable, "function": T.SymbolKind.Function, "def": T.SymbolKind.Function,
             "assume": T.SymbolKind.Constant, "claim": T.SymbolKind.Property, "theorem": T.SymbolKind.Class,
             "have": T.SymbolKind.Property}
    out = []
    theorem_of = {}
    for st in idx.statements:
        if isinstance(st, S.Theorem):
            whole = st.span if st.proof is None else S.Span(st.span.line, st.span.column,
                                                            st.proof.span.end_line, st.proof.span.end_column)
            theorem_of[st.span.line] = whole
    for n in idx.names:
        if n.kind == "have":
            continue
        full = theorem_of.get(n.statement.line, n.statement) if n.kind == "theorem" else n.statement
        sym = T.DocumentSymbol(name=n.name, kind=kinds[n.kind], range=_range(T, full, doc.lines),
                               selection_range=_range(T, n.span, doc.lines), detail=n.kind, children=[])
        if n.kind == "theorem":
            for h in idx.names:
                if h.kind == "have" and h.scope is not None and full.line <= h.statement.line <= full.end_line:
                    sym.children.append(T.DocumentSymbol(
                        name=h.name, kind=kinds["have"], range=_range(T, h.statement, doc.lines),
                        selection_range=_range(T, h.span, doc.lines), detail="have"))
        out.append(sym)
    return out


def _code_actions(T, server, engine, params):
    from . import lsp_index
    uri = params.text_document.uri
    doc = server.workspace.get_text_document(uri)
    idx, check = _index(engine, uri)
    if idx is None or check is None or check.version != doc.version:
        return []   # positions of an older version would be wrong
    r = params.range
    first, last = r.start.line + 1, r.end.line + 1
    actions = []
    items = check.items if check.finished else (check.checker.items if check.checker else [])
    for item in items:
        for stp in item.steps:
            if stp.span.end_line < first or stp.span.line > last:
                continue
            v = check.step_verdict(stp)
            if v is None or not v.detail.get("suggested"):
                continue
            site = lsp_index.hint_site(check.doc, stp.span)
            if site is None:
                continue
            ln, col, has = site
            names = list(v.detail["suggested"])
            new = (", " if has else " by ") + ", ".join(names)
            text_line = doc.lines[ln - 1].rstrip("\r\n") if 0 < ln <= len(doc.lines) else ""
            pos = T.Position(line=ln - 1, character=_utf16_col(text_line, col - 1))
            edit = T.TextEdit(range=T.Range(start=pos, end=pos), new_text=new)
            diag = [d for d in (params.context.diagnostics or [])
                    if d.range.start.line + 1 <= stp.span.end_line and d.range.end.line + 1 >= stp.span.line]
            actions.append(T.CodeAction(
                title=f"Cite {', '.join(f'`{n}`' for n in names)} (by {', '.join(names)})",
                kind=T.CodeActionKind.QuickFix, diagnostics=diag or None, is_preferred=True,
                edit=T.WorkspaceEdit(changes={uri: [edit]})))
    return actions


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(prog="proofcheck lsp",
                                description="A Language Server Protocol server for .pf files, over stdio.")
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="time limit per step (default: 5)")
    p.add_argument("--seed", type=int, default=0, help="seed for the random test points (default: 0)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: up to 2)")
    p.add_argument("--debounce", type=float, default=DEBOUNCE, metavar="SECONDS",
                   help=f"quiet time after a change before checking (default: {DEBOUNCE})")
    p.add_argument("--log-level", default=os.environ.get("PROOFCHECK_LSP_LOG", "WARNING"),
                   help="logging on stderr (default: WARNING, or $PROOFCHECK_LSP_LOG)")
    args = p.parse_args(argv)

    # the protocol owns stdout; anything else printed (by us, a library or a
    # worker process) goes to stderr
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="proofcheck lsp: %(levelname)s %(message)s")

    from .check import Options
    from . import decide  # noqa: F401 - imported before any worker is forked, on one thread
    jobs = args.jobs or min(2, os.cpu_count() or 1)
    options = Options(timeout=args.timeout, seed=args.seed, jobs=jobs)
    box: dict = {"debounce": max(0.0, args.debounce)}
    server = make_server(box)
    engine = Engine(options, jobs, box["publish"], os.getcwd())
    box["engine"] = engine
    _warm_up(engine)

    def serve():
        try:
            server.start_io(stdin=sys.stdin.buffer, stdout=proto_out)
        except BaseException:  # noqa: BLE001
            log.exception("the protocol loop ended")
        finally:
            engine.stop()
    t = threading.Thread(target=serve, name="proofcheck-lsp-protocol", daemon=True)
    t.start()
    try:
        engine.run()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            engine.pool.close()
        except Exception:  # noqa: BLE001
            pass
    try:
        proto_out.flush()
    except (OSError, ValueError):
        pass
    # pygls's stdin reader thread may still block on a read: leave without waiting for it
    os._exit(0)


def _warm_up(engine):
    """Start the workers before any other thread exists (they are forked), and
    load what the first check needs."""
    try:
        for runner in engine.pool.runners:
            runner.run([_tiny_task()], 5)
    except Exception:  # noqa: BLE001
        log.exception("warm-up failed")


def _tiny_task():
    from .check import FileChecker, Options
    from .parse import parse_document
    ch = FileChecker(parse_document("let x : real\nclaim : x = x\n"), Options())
    ch.build()
    return ch.tasks[0]
