"""The command line, end to end, as a user runs it."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "proofcheck", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_valid_file_exits_0(tmp_path):
    f = tmp_path / "ok.pf"
    f.write_text("let a : real\nclaim c : a + a = 2*a\n")
    p = run(str(f), "--no-color")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 proved" in p.stdout


def test_refuted_file_exits_1_and_shows_values():
    p = run("proofs/mistakes.pf", "--no-color")
    assert p.returncode == 1
    assert "fails at a = 1, b = 1" in p.stdout
    assert "Traceback" not in p.stdout + p.stderr


def test_syntax_error_exits_1_without_traceback(tmp_path):
    f = tmp_path / "bad.pf"
    f.write_text("let x : real\nclaim c : x <=\n")
    p = run(str(f), "--no-color")
    assert p.returncode == 1
    assert "bad.pf:2  syntax error: expected an expression after `<=`" in p.stdout
    assert "Traceback" not in p.stdout + p.stderr


def test_missing_file_exits_2(tmp_path):
    p = run(str(tmp_path / "nope.pf"))
    assert p.returncode == 2
    assert "no such file" in p.stderr


def test_usage_error_exits_2():
    assert run().returncode == 2
    assert run("--timeout", "0", "proofs").returncode == 2
    assert run("--format", "xml", "proofs").returncode == 2


def test_checked_passes_unless_strict(tmp_path):
    f = tmp_path / "c.pf"
    f.write_text("let x : real\nclaim c : x*exp(-x) <= 1/e\n")
    assert run(str(f)).returncode == 0
    p = run(str(f), "--strict")
    assert p.returncode == 1


def test_folders_are_checked_sorted_and_json_is_one_document(tmp_path):
    (tmp_path / "b.pf").write_text("let x : real\nclaim c : x = x\n")
    (tmp_path / "a.pf").write_text("let x : real\nclaim c : x = x + 1\n")
    (tmp_path / "notes.txt").write_text("not a proof")
    p = run(str(tmp_path), "--format", "json")
    doc = json.loads(p.stdout)
    assert [Path(f["path"]).name for f in doc["files"]] == ["a.pf", "b.pf"]
    assert doc["summary"]["proved"] == 1 and doc["summary"]["refuted"] == 1
    assert p.returncode == 1


def test_quiet_prints_only_summaries():
    p = run("proofs/sigmoid_tanh.pf", "--quiet", "--no-color")
    assert p.returncode == 0
    assert p.stdout.strip().splitlines()[0].startswith("proofs/sigmoid_tanh.pf:")


def test_same_seed_same_report():
    a = run("proofs/mistakes.pf", "--format", "json", "--seed", "7")
    b = run("proofs/mistakes.pf", "--format", "json", "--seed", "7")
    strip = lambda out: [[(s["status"], s["counterexample"]) for i in f["items"] for s in i["steps"]]
                         for f in json.loads(out)["files"]]
    assert strip(a.stdout) == strip(b.stdout)


def test_timeout_option_bounds_a_pathological_step(tmp_path):
    f = tmp_path / "slow.pf"
    f.write_text("let x : real\nclaim slow : (x + 1)^3000 = sum(k = 0..3000, x^k)\nclaim ok : x = x\n")
    p = run(str(f), "--timeout", "1", "--format", "json")
    doc = json.loads(p.stdout)
    statuses = {i["name"]: i["status"] for i in doc["files"][0]["items"]}
    assert statuses["ok"] == "proved"
    assert statuses["slow"] in ("unknown", "refuted")


def test_several_files_share_one_pool_and_keep_their_order(tmp_path):
    """Files are read first and decided together; the report keeps the order given,
    and a file that cannot be read does not stop the others."""
    a, b, c = tmp_path / "a.pf", tmp_path / "b.pf", tmp_path / "c.pf"
    a.write_text("let x : real\nclaim ca : (x + 1)^2 = x^2 + 2*x + 1\n")
    b.write_text("let y : real\nclaim cb : y^2 >= y\n")
    c.write_text("let z : real\nclaim cc : z^2 + 1 > 0\n")
    p = run(str(c), str(a), str(b), "--format", "json", "--no-cache")
    doc = json.loads(p.stdout)
    assert [f["path"] for f in doc["files"]] == [str(c), str(a), str(b)]
    assert [f["items"][0]["status"] for f in doc["files"]] == ["proved", "proved", "refuted"]
