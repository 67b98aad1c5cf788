"""``python -m benchmarks`` / ``deepdual bench``: run the cases, write JSON, markdown and the plot.

Run from the repository root. Writes ``OUT/results.json`` (machine description and every record),
``OUT/results.md`` (the tables) and ``OUT/scaling.png``. Exit code 1 when a closed form was beaten
by training (a correctness failure), else 0 (missed speed targets are reported, not failures).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
import time
import traceback
from pathlib import Path

from . import CASES, run_case
from ._common import blas_threads, environment, met


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench-results", help="output folder")
    p.add_argument("--quick", action="store_true", help="small sizes only (a few minutes)")
    p.add_argument("--only", default=None, help=f"comma-separated case names among: {', '.join(CASES)}")
    p.add_argument("--repeats", type=int, default=5, help="timed repetitions per case")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="limit BLAS/OpenMP thread pools (threadpoolctl) to this many threads; default: leave as is")
    return p


def _clean(value):
    """JSON-safe: NaN/inf become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _selected(only: str | None) -> list[str]:
    if not only:
        return list(CASES)
    names = [s.strip() for s in only.split(",") if s.strip()]
    unknown = [s for s in names if s not in CASES]
    if unknown:
        raise ValueError(f"`--only` names unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(CASES)}.")
    return names


def render_markdown(results: dict) -> str:
    env = results["environment"]
    lines = [
        "## Benchmarks",
        "",
        f"Run `{results['command']}` on {env['date']}: {env['cpu']}, {env['usable_cpus']} usable CPU(s), "
        f"torch {env['torch_threads']} thread(s), BLAS: {blas_threads(env)}; load average at start "
        f"{env['load_average']}. Python {env['python']}, numpy {env['packages']['numpy']}, "
        f"torch {env['packages']['torch']}, cvxpy {env['packages']['cvxpy']}, clarabel {env['packages']['clarabel']}, "
        f"scs {env['packages']['scs']}. Times are median (min–max, ×repeats) wall-clock.",
        "",
        "| case | target | result |",
        "|---|---|---|",
    ]
    for name, rec in results["cases"].items():
        if rec.get("error"):
            lines.append(f"| {rec.get('title', name)} | {rec.get('target', '')} | failed: {rec['error']} |")
        elif rec.get("skipped"):
            lines.append(f"| {rec.get('title', name)} | — | {rec['skipped']} |")
        else:
            lines.append(f"| {rec['title']} | {rec.get('target', '')} | {met(rec.get('target_met'))} |")
    for name, rec in results["cases"].items():
        lines += ["", f"### {rec.get('title', name)}", ""]
        if rec.get("error"):
            lines.append(f"Failed: `{rec['error']}`")
            continue
        module = importlib.import_module(CASES[name])
        if rec.get("target"):
            lines.append(f"Target: {rec['target']}. Ratio: {rec.get('ratio_definition', '—')}. "
                         f"Case time {rec.get('seconds', 0):.0f} s, load average {rec.get('load_average_before')} → "
                         f"{rec.get('load_average_after')}.")
            lines.append("")
        lines.append(module.markdown(rec))
        for note in rec.get("notes", []):
            lines += ["", f"*{note}*"]
        if rec.get("analysis"):
            lines += ["", rec["analysis"]]
    return "\n".join(lines) + "\n"


def run_benchmarks(names: list[str], *, out: Path, quick: bool, repeats: int, command: str,
                   log=print) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    results = {"command": command, "quick": quick, "repeats": repeats, "environment": environment(), "cases": {}}
    for name in names:
        log(f"[bench] {name} ...")
        start = time.perf_counter()
        try:
            rec = run_case(name, quick=quick, repeats=repeats)
        except Exception as exc:  # noqa: BLE001 - one failing case must not lose the others
            rec = {"name": name, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        results["cases"][name] = rec
        log(f"[bench] {name} done in {time.perf_counter() - start:.1f} s: "
            + ("error: " + rec["error"] if rec.get("error") else rec.get("skipped") or f"target {met(rec.get('target_met'))}"))
        # write after every case, so a long run that is interrupted keeps what it measured
        (out / "results.json").write_text(json.dumps(_clean(results), indent=1, default=str))
    results["environment"]["load_average_end"] = environment()["load_average"]
    if "scaling" in results["cases"] and not results["cases"]["scaling"].get("error"):
        from .scaling import plot

        plot(results["cases"]["scaling"], out / "scaling.png")
    (out / "results.json").write_text(json.dumps(_clean(results), indent=1, default=str))
    (out / "results.md").write_text(render_markdown(results))
    return results


def run_bench_command(args) -> int:
    """Handler of ``deepdual bench`` (and of ``python -m benchmarks``)."""
    root = Path.cwd()
    if not (root / "benchmarks" / "__main__.py").is_file():
        raise ValueError("`deepdual bench` runs from the root of a deepdual source checkout (the folder with "
                         "benchmarks/); cd there, or run `python -m benchmarks` from it.")
    if args.repeats < 1:
        raise ValueError(f"`--repeats` == {args.repeats}, must be >= 1.")
    names = _selected(args.only)
    threads = getattr(args, "blas_threads", None)
    if threads is not None:
        import torch
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
        torch.set_num_threads(threads)
    argv = ["--quick"] if args.quick else []
    argv += [f"--repeats {args.repeats}"] + ([f"--only {args.only}"] if args.only else [])
    argv += [f"--blas-threads {threads}"] if threads is not None else []
    results = run_benchmarks(names, out=Path(args.out), quick=args.quick, repeats=args.repeats,
                             command=" ".join(["python -m benchmarks", *argv]),
                             log=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"wrote {os.path.join(args.out, 'results.json')} and {os.path.join(args.out, 'results.md')}")
    beaten = [n for n, r in results["cases"].items() if r.get("objective_never_beaten") is False]
    failed = [n for n, r in results["cases"].items() if r.get("error")]
    if beaten:
        print(f"FAILED: a closed form was beaten by training in {', '.join(beaten)}", file=sys.stderr)
    if failed:
        print(f"FAILED: {', '.join(failed)} raised (see results.json)", file=sys.stderr)
    return 1 if beaten or failed else 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_bench_command(args)
    except ValueError as exc:
        print(f"python -m benchmarks: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
