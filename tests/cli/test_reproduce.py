"""deepdual.cli.reproduce: ``deepdual reproduce`` checks its options, runs the experiments, prints the counts."""

from __future__ import annotations

import os

from deepdual.cli import reproduce as command


def test_unknown_only_name_exits_2(run_cli, expect_error, tmp_path):
    expect_error(run_cli(["reproduce", "--only", "fig1,fig9", "--out", tmp_path / "rep"]),
                 "unknown experiment name(s) 'fig9' in --only; valid names: fig1, fig2a")
    assert not (tmp_path / "rep").exists()  # checked before any work


def test_missing_cifar_dir_exits_2(run_cli, expect_error, tmp_path):
    expect_error(run_cli(["reproduce", "--only", "fig4", "--cifar-dir", tmp_path / "none", "--out", tmp_path / "rep"]),
                 f"--cifar-dir '{tmp_path / 'none'}' is not a folder")
    assert not (tmp_path / "rep").exists()


def test_out_that_is_a_file_exits_2(run_cli, expect_error, tmp_path):
    (tmp_path / "rep").write_text("")
    expect_error(run_cli(["reproduce", "--only", "fig1", "--out", tmp_path / "rep"]),
                 f"--out '{tmp_path / 'rep'}' is a file; pass a folder")


def test_passes_the_options_on_and_prints_the_counts(run_cli, tmp_path, monkeypatch):
    calls = []

    def reproduce(out, **kwargs):
        calls.append((out, kwargs))
        return {"summary": {"PASS": 5, "FAIL": 1, "SKIPPED": 2}}

    monkeypatch.setattr(command, "reproduce", reproduce)
    code, out, err = run_cli(["reproduce", "--out", tmp_path / "rep", "--only", "fig4, fig1", "--quick", "--seed", "3",
                              "--no-progress", "--cifar-dir", tmp_path, "--jobs", "2"])
    assert code == 0, err  # FAIL rows are in the report, not the exit code
    assert calls == [(str(tmp_path / "rep"), {"quick": True, "only": ["fig1", "fig4"], "cifar_dir": str(tmp_path),
                                              "seed": 3, "device": "cpu", "progress": False, "jobs": 2})]
    assert out.startswith("deepdual reproduce: 5 PASS, 1 FAIL, 2 SKIPPED in ")
    assert out.rstrip().endswith(f"report: {os.path.join(tmp_path / 'rep', 'index.html')}")
