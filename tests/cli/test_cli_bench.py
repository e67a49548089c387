"""``chainrule bench``: runs the repository's suite, passes --quick/--json/--only on, explains when absent."""

from __future__ import annotations

import argparse
import json

from chainrule.cli import bench


def test_bench_one_quick_case(cli, tmp_path):
    result = cli("bench", "--quick", "--only", "tiny", "--threads", "1", "--json", "out/bench.json")
    assert result.returncode == 0, result.stderr
    payload = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert len(payload["results"]) == 1
    (case,) = payload["results"]
    assert case["chainrule_ms"] > 0 and case["case"] in result.stdout
    assert "--threads 1" in result.stdout  # the option reached the suite


def test_bench_errors(cli_many, user_errors, tmp_path):
    (tmp_path / "file.txt").write_text("a file, not a folder")
    cases = [
        (["--only", "nosuchcase"], ["'nosuchcase'"]),
        (["--json", "file.txt/b.json"], ["file.txt"]),
        (["--json", "bench.csv"], ["bench.csv", ".json"]),
        (["--threads", "0"], ["--threads", "0"]),
    ]
    user_errors(cases, cli_many([["bench", *args] for args, _ in cases]))


def test_bench_outside_a_checkout_says_how(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "_candidate_roots", lambda: [tmp_path])
    args = argparse.Namespace(json=None, quick=True, only=None)
    assert bench.run(args) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "checkout" in err and "make bench" in err
