"""deepdual.cli: the parser, help, exit codes, and what becomes exit 2 (bad input) and what does not (bugs)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deepdual import cli
from deepdual.cli import UsageError, main
from deepdual.cli._errors import first_line, user_input

HELP = {
    "fit": ["--target TARGET", "--depth DEPTH", "(default: 3)", "--beta BETA", "(default: 0.001)", "--test-size",
            "(default: 0.2)", "--save", "--compare-sgd", "--train-size", "--task", "Exit codes"],
    "certify": ["--target", "--beta", "--rows", "(default: auto)", "1 no certificate exists"],
    "sweep": ["--out", "--scheduler", "--jobs", "(default: 2)", "1 a run failed"],
    "reproduce": ["--out", "(default: deepdual-report)", "--quick", "--only", "--cifar-dir", "--device"],
    "bench": ["--out", "(default: bench-results)", "--repeats", "(default: 5)", "--blas-threads"],
}


@pytest.mark.parametrize("command", sorted(HELP))
def test_help_lists_options_with_defaults(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for text in HELP[command]:
        assert text in out, text


def test_top_level_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in HELP:
        assert command in out
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == "deepdual 0.1.0"


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: deepdual" in capsys.readouterr().out


def test_argparse_errors_are_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "data.csv"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err == "deepdual: error: the following arguments are required: --target\n"


def test_console_script_is_main():
    (ep,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "deepdual"]
    assert ep.value == "deepdual.cli:main"
    assert ep.load() is main


# ------------------------------------------------------------------------------------------ exit codes
def _patch_handler(monkeypatch, exc):
    from deepdual.cli import fit

    def handler(args):
        raise exc

    monkeypatch.setattr(fit, "run_fit", handler)


def test_usage_error_prints_its_first_line_and_exits_2(monkeypatch, capsys):
    _patch_handler(monkeypatch, UsageError("--depth == 1, must be >= 2.\nsecond line"))
    assert main(["fit", "x.csv", "--target", "y"]) == 2
    assert capsys.readouterr().err == "deepdual fit: error: --depth == 1, must be >= 2.\n"


@pytest.mark.parametrize("exc", [KeyError("internal"), ValueError("internal"), TypeError("internal"),
                                 FileNotFoundError("internal"), RuntimeError("internal")])
def test_an_error_outside_input_validation_is_not_exit_2(exc, monkeypatch):
    """Only UsageError means bad input: anything else a handler raises is a bug and propagates."""
    _patch_handler(monkeypatch, exc)
    with pytest.raises(type(exc), match="internal"):
        main(["fit", "x.csv", "--target", "y"])


def test_a_bug_inside_fit_is_a_traceback_not_exit_2(monkeypatch, tmp_path, write_csv):
    from deepdual.cli import fit

    def broken_split(*args, **kwargs):
        raise ValueError("broken split")

    monkeypatch.setattr(fit, "_split", broken_split)
    data = write_csv(tmp_path / "d.csv", np.eye(4), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="broken split"):
        main(["fit", data, "--target", "colour"])


def test_interrupt_exits_130(monkeypatch, capsys):
    _patch_handler(monkeypatch, KeyboardInterrupt())
    assert main(["fit", "x.csv", "--target", "y"]) == 130
    assert capsys.readouterr().err == "deepdual fit: interrupted\n"


# ------------------------------------------------------------------------------------------ user_input
@pytest.mark.parametrize("exc", [ValueError("bad `beta`\nmore"), TypeError("bad `beta`"),
                                 FileNotFoundError("bad `beta`")])
def test_user_input_turns_validation_errors_into_usage_errors(exc):
    with pytest.raises(UsageError, match=r"^bad `beta`$") as info:
        with user_input():
            raise exc
    assert info.value.__cause__ is exc


@pytest.mark.parametrize("exc", [np.linalg.LinAlgError("SVD did not converge"), KeyError("k"),
                                 RuntimeError("r"), UsageError("u")])
def test_user_input_leaves_other_errors_alone(exc):
    with pytest.raises(type(exc)) as info:
        with user_input():
            raise exc
    assert info.value is exc


def test_first_line():
    assert first_line(ValueError("a\nb")) == "a"
    assert first_line(KeyError()) == "KeyError"


# ------------------------------------------------------------------------------------------ real processes
@pytest.mark.timeout(120)
def test_real_processes(tmp_path):
    """``python -m deepdual.cli``: help starts without torch; a bug shows its traceback and exits 1."""
    no_torch = textwrap.dedent("""
        import sys
        from deepdual.cli import main
        for argv in (["--help"], ["fit", "--help"], ["certify", "--help"], ["sweep", "--help"]):
            try:
                main(argv)
            except SystemExit:
                pass
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "sklearn", "scipy"))
        sys.exit(f"imported {heavy[:3]}" if heavy else 0)
    """)
    bug = textwrap.dedent("""
        import deepdual.cli.reproduce as r
        def parse_only(only):
            return {}["no such key"]
        r.parse_only = parse_only
        from deepdual.cli import main
        raise SystemExit(main(["reproduce", "--only", "fig1"]))
    """)
    procs = {
        "no_torch": subprocess.Popen([sys.executable, "-c", no_torch], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True),
        "bug": subprocess.Popen([sys.executable, "-c", bug], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=tmp_path),
        "module": subprocess.Popen([sys.executable, "-m", "deepdual.cli", "reproduce", "--only", "fig9"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path),
    }
    res = {}
    for name, p in procs.items():
        out, err = p.communicate(timeout=110)
        res[name] = (p.returncode, out, err)
    assert res["no_torch"][0] == 0, res["no_torch"]
    code, _, err = res["bug"]
    assert code == 1 and "Traceback" in err and "KeyError: 'no such key'" in err, err
    code, _, err = res["module"]
    assert code == 2 and err.count("\n") == 1 and "unknown experiment name(s) 'fig9'" in err, err


def test_package_exports():
    assert cli.__all__ == ["main", "build_parser", "UsageError"]
    assert issubclass(UsageError, ValueError)
