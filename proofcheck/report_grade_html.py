"""Feedback pages for students: `proofcheck grade --out DIR` writes DIR/ID.html.

One self-contained page per submission (no network, no scripts): the score, a
summary per theorem, and the submission itself with every checked line marked
(✓ proved, ≈ checked, ✗ refuted, ? unknown, ! error) and, under a line that does
not hold, why: the step in full, the checker's message and the counterexample.
Laid out for a phone as well as a desktop: long lines wrap inside their box, the
page never scrolls sideways.

Submissions are hostile: every piece of text from them (and from the checker's
messages, which quote them) is escaped, and invisible or control characters are
shown as escapes (`\\u202e`), so what the student sees is what the checker read.
"""
from __future__ import annotations

import html
import os
import re
from collections import defaultdict
from pathlib import Path

from . import __version__
from .grade import ALTERED, MISSING, as_number
from .textutil import visible
from .report_grade import GRADE_MARKS
from .verdict import CHECKED, ERROR, ORDER, PROVED, REFUTED, UNKNOWN

WORDS = {
    PROVED: "proved", CHECKED: "checked numerically", REFUTED: "refuted", UNKNOWN: "not decided",
    ERROR: "error", ALTERED: "altered", MISSING: "missing",
}
EXPLAIN = {
    CHECKED: "it held at every test point, but it was not proved symbolically",
    UNKNOWN: "proofcheck could neither prove nor refute this step",
}
LEGEND = [(PROVED, "proved"), (CHECKED, "checked numerically, not proved"), (REFUTED, "refuted (false)"),
          (UNKNOWN, "not decided"), (ERROR, "error"), (ALTERED, "statement or setup changed"),
          (MISSING, "missing")]

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;padding:12px;background:#f4f5f7;color:#1c2126;
 font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:58rem;margin:0 auto}
h1{font-size:1.35rem;margin:.2em 0 .1em;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.2em 0 .4em}
.sub{color:#57606a;margin:0;overflow-wrap:anywhere}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px 14px;margin:12px 0}
.total{display:flex;flex-wrap:wrap;align-items:baseline;gap:.2em .8em}
.total .big{font-size:2rem;font-weight:700}
.alert{border-left:6px solid #bf3989;background:#ffeff7}
code,.code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
code{font-size:.92em;background:#eef1f4;border-radius:4px;padding:0 .25em;overflow-wrap:anywhere;
 white-space:pre-wrap}
ol.summary{list-style:none;padding:0;margin:0}
ol.summary li{display:grid;grid-template-columns:1.6em minmax(0,1fr) auto;gap:.1em .5em;
 padding:.5em 0;border-top:1px solid #eaeef2}
ol.summary li:first-child{border-top:0}
ol.summary .name{font-weight:600;overflow-wrap:anywhere}
ol.summary .pts{font-weight:600;white-space:nowrap;text-align:right}
ol.summary .why{grid-column:2/4;color:#3d444d;overflow-wrap:anywhere}
.legend{display:flex;flex-wrap:wrap;gap:.2em 1em;color:#57606a;font-size:.9rem;margin:.4em 0 0}
.mark{font-weight:700;text-align:center}
.code{background:#fff;border:1px solid #d0d7de;border-radius:8px;font-size:14px;line-height:1.5;
 overflow-x:auto;padding:4px 0}
.ln{display:grid;grid-template-columns:3em 1.7em minmax(0,1fr);align-items:start}
.ln .no{color:#8c959f;text-align:right;padding-right:.4em;text-decoration:none;user-select:none}
.ln .tx{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;min-width:0;padding-right:6px}
.ln.s-refuted,.ln.s-error,.ln.s-altered,.ln.s-missing{background:#ffebe9}
.ln.s-unknown{background:#fff8c5}
.ln.s-checked{background:#eaf5ff}
.banner{margin:10px 6px 2px;padding:6px 10px;border-radius:6px;background:#f6f8fa;border:1px solid #d0d7de;
 font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;font-size:15px;
 overflow-wrap:anywhere}
.banner .pts{font-weight:700;white-space:nowrap}
.note{margin:2px 8px 8px 4.7em;padding:6px 10px;border-left:4px solid #8c959f;border-radius:4px;
 background:#f6f8fa;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 font-size:15px;overflow-wrap:anywhere}
.note p{margin:.15em 0}
.note .method{color:#57606a;font-size:.9em}
.s-proved .mark,.mark.s-proved{color:#1a7f37}
.s-checked .mark,.mark.s-checked{color:#0969da}
.s-refuted .mark,.mark.s-refuted,.s-altered .mark,.mark.s-altered,.s-missing .mark,.mark.s-missing{color:#cf222e}
.s-unknown .mark,.mark.s-unknown{color:#9a6700}
.s-error .mark,.mark.s-error{color:#bf3989}
.note.s-refuted,.note.s-altered,.note.s-missing{border-color:#cf222e;background:#fff5f5}
.note.s-unknown{border-color:#d4a72c;background:#fffbe6}
.note.s-checked{border-color:#0969da;background:#f3f9ff}
.note.s-error{border-color:#bf3989;background:#fff4fa}
footer{color:#6e7781;font-size:.85rem;margin:16px 0 4px}
@media (max-width:34rem){body{padding:8px}.note{margin-left:8px}.ln{grid-template-columns:2.4em 1.5em minmax(0,1fr)}}
"""


def esc(text) -> str:
    """Text from a submission or a message, safe inside HTML (elements and attributes)."""
    return html.escape(visible(str(text)), quote=True)


_QUOTED = re.compile(r"`([^`\n]+)`")


def esc_words(text) -> str:
    """A message in words: escaped, with its `quoted` formulas shown as code."""
    return _QUOTED.sub(r"<code>\1</code>", esc(text))


def _num(x) -> str:
    return str(as_number(x))


# ----------------------------------------------------------------- file names
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def page_name(student_id: str, used: set) -> str:
    """A file name for a student's page: letters, digits, `.`, `_`, `-` only, no leading
    dot, at most 100 characters, distinct from the names already `used` (compared
    without case, for case-insensitive file systems)."""
    name = _UNSAFE.sub("_", student_id).lstrip(".")[:100] or "student"
    if name.upper() in {"CON", "PRN", "AUX", "NUL"} or re.fullmatch(r"(?i)(com|lpt)[0-9]", name):
        name = "_" + name
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{name}-{n}"
    used.add(candidate.lower())
    return candidate


def write_feedback(directory, assignment, grades) -> list:
    """One page per student, `DIRECTORY/ID.html`; returns the paths written, in order."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    used: set = set()
    paths = []
    for g in grades:
        path = d / f"{page_name(g.id, used)}.html"
        path.write_text(render_page(assignment, g), encoding="utf-8")
        paths.append(str(path))
    return paths


# ---------------------------------------------------------------- annotations
def _step_note(st, item) -> dict:
    v = st.verdict
    return {"status": v.status, "method": v.method, "message": v.message,
            "counterexample": v.counterexample, "claim": f"{st.lhs} {st.relation} {st.rhs}",
            "hints": list(st.hints), "kind": item.kind}


def annotations(file_result):
    """(marks, notes): line -> statuses of what is checked on it; line -> notes to show
    under it (for everything that is not proved)."""
    marks: dict = defaultdict(list)
    notes: dict = defaultdict(list)
    if file_result is None:
        return marks, notes
    for item in file_result.items:
        own = item.own
        if item.kind == "syntax":
            marks[item.span.line].append(ERROR)
            notes[item.span.line].append({"status": ERROR, "message": f"syntax error: {own.message if own else ''}",
                                          "method": ""})
            continue
        if own is not None and own.status != PROVED:
            span = item.match_info.get("error_span", item.span) if item.match_info else item.span
            marks[span.line].append(own.status)
            notes[span.end_line].append({"status": own.status, "message": own.message, "method": own.method,
                                         "counterexample": own.counterexample})
        for st in item.steps:
            if st.verdict is None:
                continue
            marks[st.span.line].append(st.verdict.status)
            if st.verdict.status != PROVED:
                notes[st.span.end_line].append(_step_note(st, item))
    return marks, notes


def _weakest(statuses):
    return min(statuses, key=lambda s: ORDER.get(s, -1))


# ----------------------------------------------------------------------- HTML
def _note_html(n: dict, line: int) -> str:
    status = n["status"]
    head = f'<span class="mark">{GRADE_MARKS.get(status, "?")}</span> <strong>{esc(WORDS.get(status, status))}</strong>'
    if n.get("method"):
        head += f' <span class="method">· {esc(n["method"])}</span>'
    parts = [f"<p>{head}</p>"]
    if n.get("claim"):
        cited = f' <span class="method">(citing {esc(", ".join(n["hints"]))})</span>' if n.get("hints") else ""
        parts.append(f"<p>This step says <code>{esc(n['claim'])}</code>{cited}</p>")
    message = n.get("message") or EXPLAIN.get(status, "")
    if message:
        parts.append(f'<p class="msg">{esc_words(message)}</p>')
    cex = n.get("counterexample")
    if cex:
        values = ", ".join(f"<code>{esc(k)} = {esc(v)}</code>" for k, v in cex.items())
        parts.append(f'<p class="cex">Counterexample: {values}</p>')
    return f'<div class="note s-{esc(status)}" data-line="{line}">{"".join(parts)}</div>'


def _banner_html(tg, index: int) -> str:
    mark = GRADE_MARKS.get(tg.status, "?")
    reason = f"<br>{esc_words(tg.reason)}" if tg.reason else ""
    return (f'<div class="banner s-{esc(tg.status)}" id="thm-{index}" data-theorem="{esc(tg.name)}">'
            f'<span class="mark">{mark}</span> theorem <strong>{esc(tg.name)}</strong>: '
            f'<span class="pts">{_num(tg.score)} / {_num(tg.max_score)} points</span> · '
            f'{esc(WORDS.get(tg.status, tg.status))}{reason}</div>')


def _source_html(g) -> str:
    lines = g.text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    marks, notes = annotations(g.file_result)
    banners = defaultdict(list)
    for i, tg in enumerate(g.theorems):
        if tg.line:
            banners[tg.line].append(_banner_html(tg, i))
            # the banner above the statement already says what the theorem's own verdict says
            notes[tg.line] = [n for n in notes.get(tg.line, []) if not n.get("message") or n.get("claim")
                              or n["message"] not in tg.reason]
    out = ['<div class="code" role="list">']
    last = max([len(lines)] + list(marks) + list(notes) + list(banners))
    for no in range(1, last + 1):
        out += banners.get(no, [])
        text = lines[no - 1] if no <= len(lines) else ""
        statuses = marks.get(no)
        if statuses:
            status = _weakest(statuses)
            cls, mark = f" s-{status}", GRADE_MARKS[status]
            title = f' title="{esc(WORDS.get(status, status))}"'
            data = f' data-status="{status}"'
        else:
            cls = mark = title = data = ""
        out.append(f'<div class="ln{cls}" id="L{no}" data-line="{no}"{data} role="listitem">'
                   f'<a class="no" href="#L{no}">{no}</a><span class="mark"{title}>{mark}</span>'
                   f'<span class="tx">{esc(text) if text else " "}</span></div>')
        out += [_note_html(n, no) for n in notes.get(no, [])]
    out.append("</div>")
    return "\n".join(out)


def _summary_html(g) -> str:
    items = []
    for i, tg in enumerate(g.theorems):
        name = esc(tg.name)
        if tg.line and g.gradable:
            name = f'<a href="#thm-{i}">{name}</a>'
        if not g.gradable:
            why = "not graded (see above)"
        elif tg.reason:
            why = esc_words(tg.reason)
        else:
            why = "every step holds" if tg.status == PROVED else esc(WORDS.get(tg.status, tg.status))
        items.append(f'<li class="s-{esc(tg.status)}" data-theorem="{esc(tg.name)}" data-status="{esc(tg.status)}">'
                     f'<span class="mark" title="{esc(WORDS.get(tg.status, tg.status))}">'
                     f'{GRADE_MARKS.get(tg.status, "?")}</span>'
                     f'<span class="name">{name}</span>'
                     f'<span class="pts">{_num(tg.score)} / {_num(tg.max_score)}</span>'
                     f'<span class="why">{why}</span></li>')
    return '<ol class="summary">' + "".join(items) + "</ol>"


def render_page(assignment, g) -> str:
    """The feedback page of one student, as a complete HTML document."""
    asg_name = os.path.basename(str(assignment.path))
    legend = "".join(f'<span><span class="mark s-{s}">{GRADE_MARKS[s]}</span> {esc(w)}</span>' for s, w in LEGEND)
    body = [
        "<header>",
        f"<h1>Feedback for {esc(g.id)}</h1>",
        f'<p class="sub">Assignment <code>{esc(asg_name)}</code> · submission <code>{esc(os.path.basename(g.path))}'
        f"</code></p>",
        "</header>",
        f'<section class="card total" aria-label="score"><span class="big" id="total">{_num(g.total)} / '
        f'{_num(g.max)}</span><span>points</span></section>',
    ]
    if not g.gradable:
        body.append(f'<section class="card alert" id="message"><p><strong>Your submission could not be graded.'
                    f'</strong></p><p>{esc(g.message)}</p></section>')
    body += ['<section class="card" aria-label="theorems"><h2>Theorems</h2>', _summary_html(g),
             f'<p class="legend">{legend}</p></section>']
    if g.gradable:
        body += ['<section aria-label="your submission"><h2>Your submission, line by line</h2>',
                 '<p class="sub">Each checked line is marked; under a line that does not hold you find why, and '
                 "values that make it false.</p>", _source_html(g), "</section>"]
    body.append(f"<footer>Graded by proofcheck {esc(__version__)}. A step marked ✓ was proved; ≈ held at every "
                "test point but was not proved; ✗ is false; ? could not be decided.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Feedback: {esc(g.id)} · {esc(asg_name)}</title><style>{CSS}</style></head>"
            "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")
