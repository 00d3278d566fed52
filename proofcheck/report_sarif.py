"""SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format), for code-scanning
views: one result per diagnostic of the JSON report (report_json), so the three
outputs (JSON, SARIF, the language server) always say the same thing.

Levels: `error` and `refuted` are errors, `unknown` a warning, `checked` a note.
Regions are 1-based, end column exclusive, counted in Unicode code points
(`columnKind: unicodeCodePoints`), like the JSON report's positions.
"""
from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from . import __version__
from .report_json import file_document
from .verdict import CHECKED, ERROR, REFUTED, UNKNOWN

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {ERROR: "error", REFUTED: "error", UNKNOWN: "warning", CHECKED: "note"}
RULES = [
    (REFUTED, "a step does not hold", "A counterexample, confirmed in exact rational arithmetic or by a certified "
              "enclosure, shows that the step is false."),
    (ERROR, "a statement cannot be checked", "A syntax error, an undefined name, a shape mismatch, an unknown "
            "citation, or a chain that does not match its theorem."),
    (UNKNOWN, "a step is not established", "Neither proved nor refuted: the message says why (a condition that "
              "could not be shown, a missing citation, the time limit)."),
    (CHECKED, "a step is only tested", "No proof was found and no violation at the tested points: evidence, "
              "not proof."),
]


def _uri(path: str) -> tuple:
    """(uri, uriBaseId or None): relative paths stay relative to the checkout
    (%SRCROOT%), as code-scanning services expect; absolute ones become file URIs."""
    p = Path(path)
    if p.is_absolute():
        try:
            rel = p.resolve().relative_to(Path.cwd().resolve())
            return quote(PurePosixPath(*rel.parts).as_posix()), "%SRCROOT%"
        except ValueError:
            return p.resolve().as_uri(), None
    return quote(PurePosixPath(*Path(os.path.normpath(path)).parts).as_posix()), "%SRCROOT%"


def run_log(results, seconds: float) -> dict:
    rule_index = {rid: i for i, (rid, _, _) in enumerate(RULES)}
    rules = [{
        "id": rid, "name": rid.capitalize(),
        "shortDescription": {"text": short}, "fullDescription": {"text": full},
        "defaultConfiguration": {"level": LEVEL[rid]},
        "help": {"text": f"{full} See the proofcheck documentation (docs/language.md, Verdicts)."},
    } for rid, short, full in RULES]
    artifacts, out = [], []
    for fr in results:
        uri, base = _uri(fr.path)
        loc = {"uri": uri, "index": len(artifacts)}
        if base:
            loc["uriBaseId"] = base
        artifacts.append({"location": {k: v for k, v in loc.items() if k != "index"}, "sourceLanguage": "pf"})
        for d in file_document(fr)["diagnostics"]:
            code = d["code"]
            r = d["range"]
            region = {"startLine": r["start"]["line"] + 1, "startColumn": r["start"]["character"] + 1,
                      "endLine": r["end"]["line"] + 1, "endColumn": r["end"]["character"] + 1}
            if (region["endLine"], region["endColumn"]) <= (region["startLine"], region["startColumn"]):
                region["endLine"], region["endColumn"] = region["startLine"], region["startColumn"] + 1
            result = {
                "ruleId": code, "ruleIndex": rule_index[code], "level": LEVEL[code],
                "message": {"text": d["message"]},
                "locations": [{"physicalLocation": {"artifactLocation": dict(loc), "region": region}}],
                "partialFingerprints": {"proofcheck/v1": f"{uri}:{code}:{d['message']}"[:400]},
            }
            out.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "proofcheck", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
            "artifacts": artifacts,
            "results": out,
            "columnKind": "unicodeCodePoints",
            "invocations": [{"executionSuccessful": True, "properties": {"seconds": round(seconds, 4)}}],
        }],
    }


def render(results, seconds: float) -> str:
    return json.dumps(run_log(results, seconds), ensure_ascii=False, indent=1)
