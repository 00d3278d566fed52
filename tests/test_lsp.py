"""`proofcheck lsp` end to end: a real LSP client (pytest-lsp) drives the server over stdio."""
from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pygls.protocol import default_converter

TIMEOUT = 3  # the server's time limit per step, for the pathological step


def recording_client():
    """pytest-lsp's client, also keeping every publishDiagnostics with its version and time."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []

    def publish(c: LanguageClient, params: T.PublishDiagnosticsParams):
        c.diagnostics[params.uri] = params.diagnostics
        c.published.append((params.uri, params.version, list(params.diagnostics), time.monotonic()))

    features = dict(DEFAULT_CLIENT_FEATURES)
    features[T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    register_lsp_features(client, features)
    return client


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "proofcheck", "lsp", "--timeout", str(TIMEOUT)],
                              client_factory=recording_client),
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(T.InitializeParams(capabilities=T.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


lsp = pytest.mark.asyncio(loop_scope="module")

_versions: dict = {}


def open_doc(client, name, text):
    uri = f"file:///tmp/proofcheck-lsp-test/{name}.pf"
    _versions[uri] = 1
    client.text_document_did_open(T.DidOpenTextDocumentParams(
        text_document=T.TextDocumentItem(uri=uri, language_id="pf", version=1, text=text)))
    return uri


def change_doc(client, uri, text):
    _versions[uri] += 1
    client.text_document_did_change(T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=_versions[uri]),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)]))
    return _versions[uri]


async def wait_for(client, uri, predicate, timeout=30.0, since=0):
    """The first publication for `uri` (after the `since`-th) whose diagnostics satisfy `predicate`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for u, version, diags, at in client.published[since:]:
            if u == uri and predicate(diags, version):
                return diags, version, at
        await asyncio.sleep(0.01)
    got = [(v, [(d.code, d.range.start.line, d.message[:60]) for d in ds]) for u, v, ds, _ in client.published
           if u == uri]
    raise AssertionError(f"no such diagnostics for {uri} within {timeout} s; got {got}")


BAD = """let a, b : real
claim sq : (a + b)^2 = a^2 + b^2
claim fine : (a - b)^2 = a^2 - 2*a*b + b^2
"""

CITE = """let x, y : real
let L : real, nonneg
fun f : real -> real
assume lip_f : forall u, v: |f(u) - f(v)| <= L*|u - v|

theorem t : |f(x) - f(y)| <= L*|x - y|
proof
  |f(x) - f(y)|
    <= L*|x - y|
qed
"""


@lsp
async def test_bad_step_diagnostic_at_its_range_then_cleared(client: LanguageClient):
    uri = open_doc(client, "bad", BAD)
    diags, version, _ = await wait_for(client, uri, lambda ds, v: any(d.code == "refuted" for d in ds))
    assert version == 1
    (d,) = [d for d in diags if d.code == "refuted"]
    assert d.severity == T.DiagnosticSeverity.Error
    assert (d.range.start.line, d.range.start.character) == (1, 11)
    assert (d.range.end.line, d.range.end.character) == (1, 32)
    assert "a = " in d.message and "b = " in d.message  # the counterexample
    assert len(diags) == 1  # the proved claim says nothing

    mark = len(client.published)
    fixed = BAD.replace("a^2 + b^2\n", "a^2 + 2*a*b + b^2\n", 1)
    v2 = change_doc(client, uri, fixed)
    await wait_for(client, uri, lambda ds, v: v == v2 and not ds, since=mark)


@lsp
async def test_hover_on_a_step(client: LanguageClient):
    uri = open_doc(client, "hover", BAD)
    await wait_for(client, uri, lambda ds, v: any(d.code == "refuted" for d in ds))
    await asyncio.sleep(0.2)  # the settled set follows the provisional one
    h = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=1, character=20)))
    assert h is not None
    text = h.contents.value
    assert "refuted" in text and "counterexample" in text and "a = " in text
    h2 = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=2, character=20)))
    assert h2 is not None and "proved" in h2.contents.value


@lsp
async def test_quick_fix_adds_the_citation_and_the_step_is_proved(client: LanguageClient):
    uri = open_doc(client, "cite", CITE)
    diags, _, _ = await wait_for(client, uri, lambda ds, v: any(d.code == "unknown" and "lip_f" in d.message
                                                                for d in ds))
    d = [d for d in diags if d.code == "unknown"][0]
    assert d.range.start.line == 8
    actions = await client.text_document_code_action_async(T.CodeActionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), range=d.range,
        context=T.CodeActionContext(diagnostics=[d])))
    assert actions, "no quick fix offered"
    fix = actions[0]
    assert fix.kind == T.CodeActionKind.QuickFix and "lip_f" in fix.title
    (edit,) = fix.edit.changes[uri]
    lines = CITE.split("\n")
    line = lines[edit.range.start.line]
    lines[edit.range.start.line] = line[:edit.range.start.character] + edit.new_text + \
        line[edit.range.end.character:]
    new = "\n".join(lines)
    assert "<= L*|x - y| by lip_f" in new
    mark = len(client.published)
    v = change_doc(client, uri, new)
    await wait_for(client, uri, lambda ds, ver: ver == v and not ds, since=mark)


@lsp
async def test_definition_from_a_citation(client: LanguageClient):
    text = CITE.replace("    <= L*|x - y|\n", "    <= L*|x - y|   by lip_f\n")
    uri = open_doc(client, "definition", text)
    await wait_for(client, uri, lambda ds, v: True)
    line = text.split("\n").index("    <= L*|x - y|   by lip_f")
    col = text.split("\n")[line].index("lip_f") + 2
    locs = await client.text_document_definition_async(T.DefinitionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=line, character=col)))
    assert locs, "no definition"
    loc = locs[0] if isinstance(locs, list) else locs
    assert loc.uri == uri
    assert (loc.range.start.line, loc.range.start.character, loc.range.end.character) == (3, 7, 12)
    # a declared function and a declared variable
    locs = await client.text_document_definition_async(T.DefinitionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=7, character=4)))
    assert locs[0].range.start.line == 2  # fun f
    # completion after `by`: the facts stated above
    comp = await client.text_document_completion_async(T.CompletionParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=line, character=len(
            "    <= L*|x - y|   by "))))
    labels = [c.label for c in (comp.items if hasattr(comp, "items") else comp)]
    assert "lip_f" in labels and "triangle" in labels and "t" not in labels
    # the outline
    syms = await client.text_document_document_symbol_async(T.DocumentSymbolParams(
        text_document=T.TextDocumentIdentifier(uri=uri)))
    assert {s.name for s in syms} >= {"x", "y", "L", "f", "lip_f", "t"}


SLOW = "(x^2 + y^2 + 1)^25 >= (x*y)^25 - 1"


@lsp
async def test_pathological_step_does_not_delay_the_others(client: LanguageClient):
    text = ("let x, y : real\n"
            f"claim slow : {SLOW}\n"
            "claim bad1 : x + y = x*y\n"
            "claim bad2 : x^2 = x\n"
            "claim good : x^2 + y^2 >= 2*x*y\n")
    started = time.monotonic()
    uri = open_doc(client, "slow", text)
    diags, _, at = await wait_for(
        client, uri, lambda ds, v: {d.range.start.line for d in ds if d.code == "refuted"} == {2, 3})
    assert at - started < TIMEOUT - 0.5, f"the other steps waited {at - started:.2f} s"
    assert not any(d.range.start.line == 1 for d in diags)  # still being decided
    diags, _, _ = await wait_for(client, uri, lambda ds, v: any(d.range.start.line == 1 for d in ds),
                                 timeout=TIMEOUT + 20)
    slow = [d for d in diags if d.range.start.line == 1][0]
    assert slow.code == "unknown" and "time limit" in slow.message
    # the server still answers
    h = await client.text_document_hover_async(T.HoverParams(
        text_document=T.TextDocumentIdentifier(uri=uri), position=T.Position(line=2, character=16)))
    assert h is not None and "refuted" in h.contents.value


@lsp
async def test_two_quick_edits_leave_only_the_second_versions_diagnostics(client: LanguageClient):
    uri = open_doc(client, "quick", BAD)
    await wait_for(client, uri, lambda ds, v: any(d.code == "refuted" for d in ds))
    mark = len(client.published)
    v2 = change_doc(client, uri, BAD.replace("claim sq", "claim sq2").replace("a^2 + b^2\n", "2*a^2\n", 1))
    v3 = change_doc(client, uri, "let a, b : real\nclaim other : a*b = b*a\nclaim wrong : a - b = b - a\n")
    diags, version, _ = await wait_for(client, uri, lambda ds, v: v == v3 and any(d.code == "refuted" for d in ds),
                                       since=mark)
    await asyncio.sleep(0.6)
    later = [(v, ds) for u, v, ds, _ in client.published[mark:] if u == uri]
    assert all(v == v3 for v, _ in later), [v for v, _ in later]  # nothing for version 2, ever
    final = client.diagnostics[uri]
    assert [(d.code, d.range.start.line) for d in final] == [("refuted", 2)]
    assert v2 == v3 - 1


@lsp
async def test_hostile_documents_do_not_bring_the_server_down(client: LanguageClient):
    hostile = ["\x00\x01\x02" * 100, "(" * 5000, "theorem t : x = \n" * 200, "let x : real\nclaim : " + "x+" * 3000 + "x = 0",
               "\ud800 let x", "qed\nproof\nproof\n" * 50]
    for i, text in enumerate(hostile):
        uri = open_doc(client, f"hostile{i}", text)
        await wait_for(client, uri, lambda ds, v: True)
    uri = open_doc(client, "after-hostile", BAD)
    await wait_for(client, uri, lambda ds, v: any(d.code == "refuted" for d in ds))


# ------------------------------------------------------------------ the VS Code grammar
EDITOR = Path(__file__).resolve().parent.parent / "editors" / "vscode"


def _tm_patterns(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("match", "begin", "end") and isinstance(v, str):
                yield v, node.get("name", "")
            else:
                yield from _tm_patterns(v)
    elif isinstance(node, list):
        for x in node:
            yield from _tm_patterns(x)


def lark_keywords() -> set:
    """The words the Lark grammar reserves: its quoted literals, and the words of
    its keyword terminals (FORALL, BIGOP)."""
    text = (Path(__file__).resolve().parent.parent / "grammar" / "proof.lark").read_text()
    text = "\n".join(line.split("//")[0] for line in text.split("\n"))
    words = set(re.findall(r'"([a-z]+)"', text))
    for term in ("FORALL", "BIGOP"):
        m = re.search(rf"^{term}(?:\.\d+)?:(.*)$", text, re.M)
        words |= set(re.findall(r"[a-z]{2,}", m.group(1).replace("(?!\\w)", "")))
    return words


def test_textmate_grammar_is_valid():
    grammar = json.loads((EDITOR / "syntaxes" / "pf.tmLanguage.json").read_text(encoding="utf-8"))
    assert grammar["scopeName"] == "source.pf"
    patterns = list(_tm_patterns(grammar))
    assert len(patterns) > 10
    for regex, _ in patterns:
        re.compile(regex)  # the patterns use only what Python's re and Oniguruma share
    for ref in re.findall(r'"include":\s*"#(\w+)"', json.dumps(grammar)):
        assert ref in grammar["repository"], ref
    pkg = json.loads((EDITOR / "package.json").read_text())
    assert pkg["contributes"]["grammars"][0]["scopeName"] == "source.pf"
    assert pkg["contributes"]["languages"][0]["extensions"] == [".pf"]
    conf = json.loads((EDITOR / "language-configuration.json").read_text())
    assert conf["comments"]["lineComment"] == "#"


def test_textmate_keywords_match_the_lark_grammar():
    grammar = json.loads((EDITOR / "syntaxes" / "pf.tmLanguage.json").read_text(encoding="utf-8"))
    words = set()
    for regex, name in _tm_patterns(grammar["repository"]["keywords"]):
        assert name.startswith("keyword."), name
        words |= set(re.findall(r"[a-z]+", regex.replace("\\b", " ")))
    assert words == lark_keywords()


def test_textmate_grammar_highlights_a_proof():
    grammar = json.loads((EDITOR / "syntaxes" / "pf.tmLanguage.json").read_text(encoding="utf-8"))
    rep = grammar["repository"]
    line = "    <= L_g*|f(x) - f(y)|       by lip_g, lip_f   # the hypothesis"
    m = re.search(rep["citation"]["match"], line)
    assert m.group(2) == "lip_g, lip_f"
    assert re.search(rep["comment"]["match"], line).group(0) == "# the hypothesis"
    assert re.search(rep["declaration"]["match"], "theorem composition : x = x").group(2) == "composition"
    assert re.search(rep["number"]["match"], "x^2 + 0.25").group(0) == "2"


def test_the_servers_content_keys_are_the_command_lines():
    """lsp_engine.Keys remembers expression texts across checks; its keys (and the
    seeds of the random points) must be exactly check.task_keys's, or the server and
    the command line would decide differently and not share the verdict cache."""
    from proofcheck.check import FIRST_PASS_SKIPS, FileChecker, Options, task_keys
    from proofcheck.lsp_engine import Keys
    from proofcheck.parse import parse_document

    keys = Keys()
    root = Path(__file__).resolve().parent.parent / "proofs"
    for path in sorted(root.rglob("*.pf"))[:8]:
        def tasks():
            ch = FileChecker(parse_document(path.read_text(encoding="utf-8")), Options())
            ch.build()
            return ch.tasks
        a, b = tasks(), tasks()
        assert task_keys(a, 3, FIRST_PASS_SKIPS) == keys.task_keys(b, 3, FIRST_PASS_SKIPS) \
            == keys.task_keys(tasks(), 3, FIRST_PASS_SKIPS), path
        assert task_keys(a, 3) == keys.task_keys(b, 3), "the second pass's keys (facts in scope included)"
        assert [t.seed for t in a if hasattr(t, "seed")] == [t.seed for t in b if hasattr(t, "seed")]
