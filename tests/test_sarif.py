"""`--format sarif`: SARIF 2.1.0, validated against the OASIS schema shipped in tests/data
(the test machine has no internet)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def sarif(args, tmp_path, text=None):
    env = dict(os.environ, PYTHONHASHSEED="0", PROOFCHECK_NO_REEXEC="1")
    r = subprocess.run([sys.executable, "-m", "proofcheck", "--format", "sarif", "--cache-dir", str(tmp_path / "c"),
                        *args], capture_output=True, timeout=300, env=env, cwd=ROOT,
                       input=None if text is None else text.encode())
    return r.returncode, json.loads(r.stdout)


def test_schema_is_the_oasis_sarif_2_1_0_schema():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


def test_sarif_of_mistakes_is_valid_and_complete(validator, tmp_path):
    code, log = sarif(["proofs/mistakes.pf"], tmp_path)
    assert code == 1
    validator.validate(log)
    run = log["runs"][0]
    results = run["results"]
    assert len(results) >= 11
    assert all(r["level"] == "error" and r["ruleId"] == "refuted" for r in results)
    first = results[0]
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "proofs/mistakes.pf"
    assert loc["region"] == {"startLine": 7, "startColumn": 23, "endLine": 7, "endColumn": 44}
    assert "a = 1, b = 1" in first["message"]["text"]
    assert run["tool"]["driver"]["name"] == "proofcheck"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)


def test_sarif_levels_and_stdin(validator, tmp_path):
    text = ("let x : real\n"
            "claim wrong : x + 1 = x\n"
            "claim unproved : sin(x)^30 + cos(x)^30 <= 1\n"
            "claim bad : y = 1\n"
            "claim ok : x^2 >= 0\n")
    code, log = sarif(["--stdin", "--stdin-filename", "drafts/new.pf"], tmp_path, text)
    assert code == 1
    validator.validate(log)
    levels = {r["locations"][0]["physicalLocation"]["region"]["startLine"]: (r["ruleId"], r["level"])
              for r in log["runs"][0]["results"]}
    assert levels[2] == ("refuted", "error")
    assert levels[3] in (("checked", "note"), ("unknown", "warning"))
    assert levels[4] == ("error", "error")
    assert 5 not in levels
    assert log["runs"][0]["artifacts"][0]["location"]["uri"] == "drafts/new.pf"


def test_sarif_of_a_clean_file_has_no_results(validator, tmp_path):
    code, log = sarif(["proofs/lipschitz.pf"], tmp_path)
    assert code == 0
    validator.validate(log)
    assert log["runs"][0]["results"] == []


def test_the_validator_rejects_what_sarif_forbids(validator, tmp_path):
    _, log = sarif(["proofs/mistakes.pf"], tmp_path)
    bad = json.loads(json.dumps(log))
    bad["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)
    bad = json.loads(json.dumps(log))
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad)
