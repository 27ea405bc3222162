"""`cds-service read` as an informaticist runs it: a real process, stdin and files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "cds_service.cli", "read"]


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)


def test_read_prints_each_finding_with_its_schema(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("INDICATION: ?AVN\nCONCLUSION: no osteonecrosis. Diffuse oedema of the "
                      "left femoral head.", encoding="utf-8")
    done = _run(str(report))
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert [(f["concept"], f["status"], f["section"]) for f in findings] == [
        ("AVN", "question", "indication"), ("AVN", "absent", "impression"),
        ("BME", "present", "impression")]
    assert set(findings[0]) == {"concept", "status", "improving", "joint", "site", "side",
                                "section", "sign", "phrase", "sentence"}
    assert findings[2]["joint"] == "hip" and findings[2]["side"] == "left"


def test_read_jsonl_batch_reports_bad_lines_by_number() -> None:
    lines = '{"id": "r1", "text": "Hips: no effusion."}\nnot json\n{"id": "r2", "text": ""}\n'
    done = _run("--jsonl", stdin=lines)
    assert done.returncode == 2
    assert "line 2" in done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["r1", "r2"]
    assert out[0]["findings"][0]["status"] == "absent" and out[1]["findings"] == []


def test_read_names_a_broken_vocabulary(tmp_path: Path) -> None:
    (tmp_path / "forms.toml").write_text("[forms]\nedema = []\n", encoding="utf-8")
    done = _run("--vocabulary", str(tmp_path), stdin="x")
    assert done.returncode == 2
    assert "forms.toml: forms.edema" in done.stderr
