"""The machine-readable report (schema in docs/json.md)."""
from __future__ import annotations

import json

from .verdict import CHECKED, ERROR, PROVED, REFUTED, UNKNOWN

SCHEMA_VERSION = 1
SEVERITY = {ERROR: 1, REFUTED: 1, UNKNOWN: 2, CHECKED: 3, PROVED: 4}


def _step(st) -> dict:
    v = st.verdict
    return {
        "line": st.span.line, "column": st.span.column,
        "end_line": st.span.end_line, "end_column": st.span.end_column,
        "relation": st.relation, "lhs": st.lhs, "rhs": st.rhs, "hints": list(st.hints),
        "status": v.status, "method": v.method, "message": v.message,
        "counterexample": v.counterexample, "seconds": v.seconds,
    }


def _diagnostic(span, status, message, method) -> dict:
    return {
        "range": {"start": {"line": span.line - 1, "character": span.column - 1},
                  "end": {"line": span.end_line - 1, "character": max(span.end_column - 1, span.column)}},
        "severity": SEVERITY[status],
        "source": "proofcheck",
        "code": status,
        "message": message or f"{status}{' · ' + method if method else ''}",
    }


def file_document(fr) -> dict:
    items, diagnostics = [], []
    for item in fr.items:
        steps = [_step(st) for st in item.steps if st.verdict is not None]
        entry = {
            "kind": item.kind, "name": item.name, "line": item.span.line, "column": item.span.column,
            "end_line": item.span.end_line, "end_column": item.span.end_column,
            "status": item.status, "method": item.method, "message": item.message, "steps": steps,
        }
        if item.points is not None:
            entry["points"] = float(item.points) if item.points.denominator != 1 else int(item.points)
        items.append(entry)
        if item.own is not None and item.own.status != PROVED:
            span = item.match_info.get("error_span", item.span)
            diagnostics.append(_diagnostic(span, item.own.status, item.own.message, item.own.method))
        for st in item.steps:
            v = st.verdict
            if v is not None and v.status != PROVED:
                msg = v.message or v.status
                diagnostics.append(_diagnostic(st.span, v.status, f"{v.status}: {msg}", v.method))
    return {"path": fr.path, "status": fr.status, "seconds": fr.seconds,
            "cached": bool(getattr(fr, "cached", False)), "items": items,
            "diagnostics": diagnostics}


def run_document(results, seconds: float) -> dict:
    summary = {k: 0 for k in (PROVED, CHECKED, REFUTED, UNKNOWN, ERROR)}
    for fr in results:
        for item in fr.items:
            summary[item.status] += 1
    summary["seconds"] = round(seconds, 4)
    return {"version": SCHEMA_VERSION, "files": [file_document(fr) for fr in results], "summary": summary}


def render(results, seconds: float) -> str:
    return json.dumps(run_document(results, seconds), ensure_ascii=False, indent=1)
