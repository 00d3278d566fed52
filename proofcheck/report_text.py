"""The human-readable report: one line per step, a summary per file and run."""
from __future__ import annotations

import os

from .textutil import visible
from .verdict import CHECKED, ERROR, MARKS, PROVED, REFUTED, UNKNOWN

COLORS = {PROVED: "32", CHECKED: "36", REFUTED: "31", UNKNOWN: "33", ERROR: "35"}
COUNT_ORDER = (PROVED, CHECKED, REFUTED, UNKNOWN, ERROR)


class Style:
    def __init__(self, color: bool):
        self.color = color

    def paint(self, status: str, text: str) -> str:
        if not self.color:
            return text
        return f"\x1b[{COLORS[status]}m{text}\x1b[0m"

    def dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[0m" if self.color else text

    def bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if self.color else text


def counts(items) -> dict:
    c = {k: 0 for k in COUNT_ORDER}
    for it in items:
        c[it.status] += 1
    return c


def format_counts(c: dict) -> str:
    return ", ".join(f"{c[k]} {k}" for k in COUNT_ORDER if c[k]) or "nothing to check"


def _verdict_text(v) -> str:
    """The verdict and the method that decided it (every verdict that has one names it)."""
    return f"{v.status} · {v.method}" if v.method else v.status


def _failure_lines(v, indent: str) -> list:
    return [f"{indent}{visible(v.message)}"] if v.message else []


def render_file(fr, style: Style, quiet: bool = False) -> str:
    base = os.path.basename(fr.path)
    out = []
    if not quiet:
        out.append(style.bold(fr.path))
    for item in fr.items:
        if quiet:
            break
        mark = style.paint(item.status, MARKS[item.status])
        where = f"{base}:{item.span.line}"
        if item.kind == "syntax":
            # control characters are shown escaped; the caret follows the escaped text
            out.append(f"  {mark} {where}  syntax error: {visible(item.own.message)}")
            col = item.span.column
            line_text = fr.lines[item.span.line - 1] if item.span.line - 1 < len(fr.lines) else ""
            line_text = line_text.lstrip("\ufeff") if item.span.line == 1 else line_text
            stripped = len(line_text) - len(line_text.lstrip())
            out.append(style.dim(f"      {visible(item.text)}"))
            before = visible(line_text[stripped:max(stripped, col - 1)])
            out.append(style.dim("      " + " " * len(before) + "^"))
            continue
        label = item.kind + (f" {visible(item.name)}" if item.name else "")
        head = f"  {mark} {where}  {label}"
        if item.kind in ("claim", "have") and len(item.steps) == 1 and item.own is None:
            st = item.steps[0]
            head += f": {visible(item.text)}"
            if st.hints:
                head += style.dim(f"  by {', '.join(st.hints)}")
            out.append(head + "   " + style.paint(item.status, _verdict_text(st.verdict)))
            if item.status not in (PROVED,):
                out += _failure_lines(st.verdict, "      ")
            continue
        if item.kind in ("declaration", "assume") and item.own:
            out.append(head + "   " + style.paint(item.status, item.status))
            out.append(f"      {visible(item.own.message)}")
            continue
        out.append(head + "   " + style.paint(item.status, item.status) +
                   (style.dim(f"  [{item.points} points]") if item.points is not None else ""))
        if item.kind in ("claim", "have"):
            out[-1] = out[-1].replace(f"  {label}   ", f"  {label}: {visible(item.text)}   ", 1)
        if item.own is not None and item.own.message:
            out.append(f"      {visible(item.own.message)}")
        for st in item.steps:
            v = st.verdict
            if v is None:
                continue
            smark = style.paint(v.status, MARKS[v.status])
            text = f"{st.lhs} {st.relation} {st.rhs}" if item.kind != "theorem" else f"{st.relation} {st.rhs}"
            text = visible(text)
            line = f"      {smark} {base}:{st.span.line}  {text}"
            if st.hints:
                line += style.dim(f"  by {', '.join(st.hints)}")
            out.append(line + "   " + style.paint(v.status, _verdict_text(v)))
            if v.status != PROVED:
                out += _failure_lines(v, "          ")
    c = counts(fr.items)
    when = "from the cache" if getattr(fr, "cached", False) else f"{fr.seconds:.2f} s"
    out.append(f"{fr.path}: {format_counts(c)} ({when})")
    return "\n".join(out)


def render_run(results, seconds: float, style: Style, quiet: bool = False) -> str:
    parts = [render_file(fr, style, quiet) for fr in results]
    if len(results) != 1 or quiet:
        total = {k: 0 for k in COUNT_ORDER}
        for fr in results:
            for k, v in counts(fr.items).items():
                total[k] += v
        parts.append(style.bold(f"total: {len(results)} file(s), {format_counts(total)} ({seconds:.2f} s)"))
    return "\n\n".join(parts) if not quiet else "\n".join(parts)
