"""Run every experiment of the paper, save records atomically, resume, write the report (``deepdual reproduce``).

Layout of the output folder::

    DIR/records/NAME.json   one record per finished experiment (written to a temp file, then os.replace)
    DIR/NAME.png            its plot
    DIR/results.json        every record + package versions, seed, device, date, machine
    DIR/index.html          self-contained report (images by relative path, claims table)

A record is reused (the experiment skipped) when its ``config_hash`` matches the configuration of
this run, so an interrupted run picks up where it stopped. An experiment that raises is recorded as a
FAIL claim row carrying the error message (and is retried on the next run).

Records are never trusted blindly: before reuse each one is checked by :func:`check_record` (strict
JSON, every field of the schema, claim rows, finite numbers, the configuration hash, and the
record's ``checksum`` of its own content). A record that fails — edited by hand, truncated, another
tool's JSON — is recomputed, with a ``RuntimeWarning`` naming the file and the field.

The output folder must be new, empty, a folder an earlier ``reproduce`` wrote (its ``results.json``
or a record of ours), or a folder holding none of the files ``reproduce`` writes: a file there that
deepdual did not write is never replaced (``ValueError`` before any work).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import numbers
import os
import stat
import sys
import time
import traceback

from .. import _validation as V
from .._io import atomic_write, atomic_write_json, loads_strict, same_file
from ..report import REPORT_FORMAT
from . import EXPERIMENTS, get
from ._common import FAIL, PASS, SKIPPED, config_hash, failed, jsonable

__all__ = ["reproduce", "parse_only", "experiment_config", "check_record", "record_checksum", "REPORT_FORMAT",
           "MAX_SEED", "MAX_RECORD_BYTES", "check_out_folder"]

#: Largest ``seed``: the experiments' seeds (base seed + ``seed``) must stay valid for NumPy, torch and
#: scikit-learn (``random_state`` < 2**32).
MAX_SEED = 2**31 - 1
#: Largest record file read back (a record is a few hundred kilobytes at most).
MAX_RECORD_BYTES = 64 * 2**20
_RECORD_FIELDS = {"name", "title", "description", "config", "config_hash", "claims", "data", "seconds", "plots",
                  "checksum"}
_CLAIM_FIELDS = {"id", "claim", "value", "measured", "threshold", "status", "reason"}


def parse_only(only) -> list[str]:
    """Experiment names from ``"fig1,fig4"`` or a list; ``None`` means all. Unknown names raise ValueError."""
    if only is None:
        return list(EXPERIMENTS)
    names = [s.strip() for s in (only.split(",") if isinstance(only, str) else only) if s and s.strip()]
    bad = [n for n in names if n not in EXPERIMENTS]
    if bad or not names:
        raise ValueError(f"unknown experiment name(s) {', '.join(map(repr, bad)) or '(none given)'} in --only; "
                         f"valid names: {', '.join(EXPERIMENTS)}")
    return [n for n in EXPERIMENTS if n in names]


def experiment_config(name: str, size: str, *, seed: int = 0, device: str = "cpu", cifar: bool = False) -> dict:
    """The configuration of experiment ``name`` at ``size`` ("tiny", "quick", "full") for this run."""
    cfg = dict(get(name).CONFIGS[size])
    cfg["seed"] = int(cfg.get("seed", 0)) + int(seed)
    cfg["size"] = size
    if name in ("fig4", "neural_collapse"):
        cfg["device"] = device
    if name == "fig4":
        cfg["cifar"] = bool(cifar)
    return cfg


def _save_plot(module, rec: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig = module.plot(rec)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        atomic_write(path, buf.getvalue())
    finally:
        plt.close(fig)


# ------------------------------------------------------------------------------------------ records
def record_checksum(record: dict) -> str:
    """SHA-256 of a record's canonical JSON without its ``checksum`` field (detects any edit or damage)."""
    body = {k: v for k, v in record.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _field(rec: dict, name: str, kind, what: str):
    value = rec.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ValueError(f"field {name!r} is {type(value).__name__} {_short(value)}, not {what}")
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_claim(row, i: int) -> None:
    where = f"claims[{i}]"
    if not isinstance(row, dict):
        raise ValueError(f"field {where!r} is {type(row).__name__}, not a claim row")
    if set(row) != _CLAIM_FIELDS:
        raise ValueError(f"field {where!r} has fields {sorted(row)}, not {sorted(_CLAIM_FIELDS)}")
    for key in ("id", "claim", "measured", "threshold", "reason"):
        if not isinstance(row[key], str):
            raise ValueError(f"field '{where}.{key}' is {type(row[key]).__name__}, not a string")
    status = row["status"]
    if status not in (PASS, FAIL, SKIPPED):
        raise ValueError(f"field '{where}.status' is {_short(status)}, not PASS, FAIL or SKIPPED")
    value = row["value"]
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                              or not math.isfinite(value)):
        raise ValueError(f"field '{where}.value' is {_short(value)}, not a finite number or null")
    if (status == PASS) != (row["reason"] == ""):
        raise ValueError(f"field '{where}.reason' does not match its status {status}")


def check_record(rec, name: str, config_hash_expected: str | None = None) -> None:
    """Check a record of experiment ``name`` read back from ``records/NAME.json`` before reusing it.

    Checks the schema (every field of :func:`deepdual.experiments._common.record` plus ``config``,
    ``config_hash``, ``plots`` and ``checksum``, no other), every claim row (fields, a status of
    PASS/FAIL/SKIPPED, a finite value or null), that ``config_hash`` is the hash of ``config`` (and
    ``config_hash_expected`` when given), that ``plots`` is ``["NAME.png"]``, and the ``checksum``
    of the content. NaN / Infinity literals are refused by :func:`deepdual._io.loads_strict` when
    the file is read.

    Raises
    ------
    ValueError
        One line naming the first field that is wrong.
    """
    if not isinstance(rec, dict):
        raise ValueError(f"holds a JSON {type(rec).__name__}, not a record object")
    missing, extra = _RECORD_FIELDS - set(rec), set(rec) - _RECORD_FIELDS
    if "error" in extra:
        raise ValueError("records an experiment that raised (retried)")
    if missing:
        raise ValueError(f"has no field(s) {', '.join(map(repr, sorted(missing)))}")
    if extra:
        raise ValueError(f"has unexpected field(s) {', '.join(map(repr, sorted(extra)))}")
    if rec["name"] != name:
        raise ValueError(f"field 'name' is {_short(rec['name'])}, not {name!r}")
    _field(rec, "title", str, "a string")
    _field(rec, "description", str, "a string")
    config = _field(rec, "config", dict, "an object")
    _field(rec, "data", dict, "an object")
    seconds = _field(rec, "seconds", numbers.Real, "a number")
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"field 'seconds' is {seconds}, not a finite number >= 0")
    claims = _field(rec, "claims", list, "a list")
    if not claims:
        raise ValueError("field 'claims' is empty")
    for i, row in enumerate(claims):
        _check_claim(row, i)
    if rec["plots"] != [f"{name}.png"]:
        raise ValueError(f"field 'plots' is {_short(rec['plots'])}, not ['{name}.png']")
    if rec["config_hash"] != config_hash(name, config):
        raise ValueError("field 'config_hash' is not the hash of its field 'config'")
    if config_hash_expected is not None and rec["config_hash"] != config_hash_expected:
        raise ValueError("field 'config' is not this run's configuration")
    if rec["checksum"] != record_checksum(rec):
        raise ValueError("field 'checksum' does not match the content (the record was edited or damaged)")


def _read_record(path: str):
    """``(record, None)``, or ``(None, why)`` when ``path`` cannot be read as strict JSON."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, None
    if st.st_size > MAX_RECORD_BYTES:
        return None, f"has {st.st_size} bytes, more than a record has"
    try:
        with open(path, "rb") as fh:
            return loads_strict(fh.read()), None
    except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError, NaN literals, nesting
        return None, f"is not a valid JSON record ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"


def _reusable(path: str, name: str, h: str, out: str):
    """The record at ``path`` if it can be reused for this run; else None (with a warning when damaged)."""
    import warnings

    rec, why = _read_record(path)
    if rec is None and why is None:  # no record yet
        return None
    if why is None:
        if isinstance(rec, dict) and "error" in rec:  # an experiment that raised: retried, not a damage
            return None
        if isinstance(rec, dict) and rec.get("name") == name and rec.get("config_hash") != h \
                and isinstance(rec.get("config"), dict) and rec.get("config_hash") == config_hash(name, rec["config"]):
            return None  # computed for another configuration (--quick, --seed): recomputed, nothing damaged
        try:
            check_record(rec, name, h)
        except ValueError as exc:
            why = str(exc)
    if why is not None:
        warnings.warn(f"{path}: {why}; recomputing {name}.", RuntimeWarning, stacklevel=3)
        return None
    if not all(os.path.isfile(os.path.join(out, p)) for p in rec["plots"]):
        return None  # its plot is gone: recomputed
    return rec


def _error_record(name: str, cfg: dict, exc: BaseException, seconds: float) -> dict:
    mod = get(name)
    return jsonable({"name": name, "title": getattr(mod, "TITLE", name), "description": "The experiment raised an "
                     "error; see the claims table.", "config": cfg, "config_hash": config_hash(name, cfg),
                     "claims": [failed(name, f"{name} ran to completion", exc)], "data": {},
                     "error": "".join(traceback.format_exception_only(type(exc), exc)).strip(),
                     "seconds": seconds, "plots": []})


# ------------------------------------------------------------------------------------------ the folder
def _is_report(path: str) -> bool:
    """Whether ``path`` is the ``results.json`` of a deepdual report (this version's or an earlier one's)."""
    rec, why = _read_record(path)
    if why is not None or not isinstance(rec, dict):
        return False
    return rec.get("format") == REPORT_FORMAT or {"summary", "claims", "experiments"} <= set(rec)


def _is_our_record(path: str) -> bool:
    rec, why = _read_record(path)
    if why is not None or not isinstance(rec, dict):
        return False
    if "checksum" in rec:
        return rec["checksum"] == record_checksum(rec)
    return {"name", "config_hash", "claims"} <= set(rec)  # written before records had a checksum


def check_out_folder(out: str, names, name: str = "out") -> None:
    """Refuse (``ValueError``) an output folder where ``reproduce`` would replace a file it did not write.

    ``out`` may be missing, or a folder. Every path ``reproduce`` writes (``index.html``,
    ``results.json``, ``NAME.png``, ``records/NAME.json``) must be absent, a regular file or a link,
    and, unless the folder is a report folder of ours (its ``results.json`` or one of its records
    is), absent. Nothing is written. ``name`` is how messages call the folder (``"--out"``).
    """
    label = name if name.startswith("-") else f"`{name}`"
    if not os.path.lexists(out):
        return
    if not os.path.isdir(out):
        raise ValueError(f"{label} {out!r} is a file; pass a folder (created if missing).")
    records = os.path.join(out, "records")
    if os.path.lexists(records) and not os.path.isdir(records):
        raise ValueError(f"{label} {out!r} holds a file 'records' where reproduce keeps its records; pass a new or "
                         "empty folder.")
    targets = ["index.html", "results.json", *(f"{n}.png" for n in names),
               *(os.path.join("records", f"{n}.json") for n in names)]
    present = []
    for t in targets:
        p = os.path.join(out, t)
        if not os.path.lexists(p):
            continue
        mode = os.lstat(p).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise ValueError(f"{label} {out!r} holds {t!r}, which is not a regular file; remove it or pass another "
                             "folder.")
        present.append(t)
    if not present:
        return
    ours = _is_report(os.path.join(out, "results.json")) or (os.path.isdir(records) and any(
        _is_our_record(os.path.join(records, f)) for f in sorted(os.listdir(records)) if f.endswith(".json")))
    if not ours:
        raise ValueError(f"{label} {out!r} holds {present[0]!r}, which deepdual reproduce did not write (no deepdual "
                         "results.json or record there), so it is left alone; pass a new or empty folder, or the "
                         "folder of an earlier `deepdual reproduce`.")


def _progress_bar(enabled: bool, total: int, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=True)


def reproduce(out, *, quick: bool = False, only=None, cifar_dir=None, seed: int = 0, device: str = "cpu",
              progress=None, size: str | None = None) -> dict:
    """Run the paper's experiments and write ``out/index.html`` and ``out/results.json``.

    Parameters
    ----------
    out : str or path
        Output folder (created).
    quick : bool, default False
        The ``"quick"`` configuration (under 5 minutes on 2 cores) instead of ``"full"``.
    only : str or list of str, optional
        Experiment names (see :data:`deepdual.experiments.EXPERIMENTS`); unknown names raise ValueError.
    cifar_dir : str, optional
        Folder with the CIFAR-10 python batches; without it the CIFAR rows are SKIPPED.
    seed : int, default 0
        Added to every experiment's base seed.
    device : {"cpu", "cuda"}
    progress : bool, optional
        tqdm progress bars; default: only when stderr is a terminal.
    size : {"tiny", "quick", "full"}, optional
        Overrides ``quick`` (``"tiny"`` is the test size).

    Returns
    -------
    dict
        The content of ``results.json``.

    Raises
    ------
    ValueError
        An unknown name, ``size``, ``seed`` (an integer in [0, :data:`MAX_SEED`]) or ``device``
        (also CUDA requested where there is none), or an ``out`` folder holding a file that reproduce
        would replace but did not write (:func:`check_out_folder`), or an ``out`` that is
        ``cifar_dir``; all before any work.
    FileNotFoundError
        ``cifar_dir`` is not a folder.
    """
    from ..report import write_report

    names = parse_only(only)
    size = size or ("quick" if quick else "full")
    if size not in ("tiny", "quick", "full"):
        raise ValueError(f"`size` == {size!r}, must be 'tiny', 'quick' or 'full'.")
    if cifar_dir is not None and not os.path.isdir(cifar_dir):
        raise FileNotFoundError(f"--cifar-dir {cifar_dir!r} is not a folder")
    seed = V.check_scalar(seed, "seed", target_type=numbers.Integral, min_val=0, max_val=MAX_SEED)
    V.check_choice(device, "device", ("cpu", "cuda"))
    if device == "cuda":
        V.check_device(device)
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    out = os.path.abspath(os.fspath(out))
    if cifar_dir is not None and same_file(out, cifar_dir):
        raise ValueError(f"`out` {out!r} is the CIFAR-10 folder (`cifar_dir`); pass another folder for the report.")
    check_out_folder(out, names)
    os.makedirs(os.path.join(out, "records"), exist_ok=True)
    records, ran, skipped = [], [], []
    start = time.time()
    for name in names:
        mod = get(name)
        cfg = experiment_config(name, size, seed=seed, device=device, cifar=cifar_dir is not None)
        h = config_hash(name, cfg)
        path = os.path.join(out, "records", f"{name}.json")
        old = _reusable(path, name, h, out)
        if old is not None:
            records.append(old)
            skipped.append(name)
            continue
        bar = _progress_bar(progress, mod.steps(cfg), name)
        tick = bar.update if bar is not None else None
        t0 = time.perf_counter()
        try:
            kwargs = {"cifar_dir": cifar_dir} if name == "fig4" else {}
            rec = mod.compute(cfg, progress=tick, **kwargs)
            rec["config_hash"] = h
            rec["config"] = jsonable(cfg)
            png = f"{name}.png"
            _save_plot(mod, rec, os.path.join(out, png))
            rec["plots"] = [png]
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - reported as a FAIL row, never silently dropped
            rec = _error_record(name, cfg, exc, time.perf_counter() - t0)
        finally:
            if bar is not None:
                bar.close()
        rec["checksum"] = record_checksum(rec)
        atomic_write_json(path, rec, indent=1)
        records.append(rec)
        ran.append(name)
    results = write_report(out, records, meta={"seed": seed, "device": device, "size": size,
                                               "cifar_dir": cifar_dir, "ran": ran, "reused": skipped,
                                               "wall_seconds": time.time() - start})
    return results

