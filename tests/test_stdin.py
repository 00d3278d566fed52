"""`proofcheck --stdin --stdin-filename NAME`: a buffer checked from standard input,
as editors' linters run it (nvim-lint, efm, flymake, ALE)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

BUFFER = """let a, b : real
claim sq : (a + b)^2 = a^2 + b^2
claim fine : (a - b)^2 = a^2 - 2*a*b + b^2
"""


def run(args, text, tmp_path):
    env = dict(os.environ, PYTHONHASHSEED="0", PROOFCHECK_NO_REEXEC="1")
    return subprocess.run([sys.executable, "-m", "proofcheck", *args, "--cache-dir", str(tmp_path / "cache")],
                          input=text.encode("utf-8"), capture_output=True, timeout=120, env=env, cwd=tmp_path)


def test_stdin_json_names_the_buffer(tmp_path):
    r = run(["--stdin", "--stdin-filename", "proofs/draft.pf", "--format", "json"], BUFFER, tmp_path)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    (f,) = doc["files"]
    assert f["path"] == "proofs/draft.pf"
    assert {i["name"]: i["status"] for i in f["items"]} == {"sq": "refuted", "fine": "proved"}
    (d,) = f["diagnostics"]
    assert d["range"] == {"start": {"line": 1, "character": 11}, "end": {"line": 1, "character": 32}}
    assert d["severity"] == 1 and d["code"] == "refuted"


def test_stdin_text_and_default_name(tmp_path):
    r = run(["--stdin", "--no-color"], BUFFER.replace("a^2 + b^2\n", "a^2 + 2*a*b + b^2\n", 1), tmp_path)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert "<stdin>" in r.stdout.decode()


def test_stdin_with_paths_or_nothing_is_a_usage_error(tmp_path):
    assert run(["--stdin", "x.pf"], BUFFER, tmp_path).returncode == 2
    assert run([], BUFFER, tmp_path).returncode == 2


def test_stdin_not_utf8(tmp_path):
    env = dict(os.environ, PYTHONHASHSEED="0", PROOFCHECK_NO_REEXEC="1")
    r = subprocess.run([sys.executable, "-m", "proofcheck", "--stdin", "--format", "json", "--no-cache"],
                       input=b"\xff\xfe let", capture_output=True, timeout=60, env=env, cwd=tmp_path)
    assert r.returncode == 2
    assert "not UTF-8" in r.stderr.decode()
    assert json.loads(r.stdout)["files"] == []


def test_old_mac_line_endings_read_the_same_from_stdin_as_from_a_file(tmp_path):
    """A bare \\r ends a line when a file is read by path (universal newlines): the
    same text on standard input must give the same verdicts."""
    text = BUFFER.replace("\n", "\r")
    (tmp_path / "cr.pf").write_bytes(text.encode("utf-8"))
    by_path = run(["--format", "json", "cr.pf"], "", tmp_path)
    by_stdin = run(["--stdin", "--stdin-filename", "cr.pf", "--format", "json"], text, tmp_path)
    items = lambda r: [(i["name"], i["status"], i["message"]) for i in json.loads(r.stdout)["files"][0]["items"]]  # noqa: E731
    assert items(by_stdin) == items(by_path)
    assert {n for n, s, _ in items(by_path) if s == "refuted"} == {"sq"}
