"""What ``deepdual reproduce`` keeps on disk, checked before it is trusted: records and the output folder.

A record read back (``records/NAME.json``) is reused only after :func:`check_record` (strict JSON, every
field of the schema, claim rows, finite numbers, the configuration hash and the record's own
``checksum``); an output folder is written to only after :func:`check_out_folder` (no file there that
deepdual did not write would be replaced).
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import stat

from .._io import loads_strict
from ..report import REPORT_FORMAT
from ._common import FAIL, PASS, SKIPPED, config_hash

__all__ = ["record_checksum", "check_record", "read_record", "check_out_folder", "MAX_RECORD_BYTES"]

#: Largest record file read back (a record is a few hundred kilobytes at most).
MAX_RECORD_BYTES = 64 * 2**20
_RECORD_FIELDS = {"name", "title", "description", "config", "config_hash", "claims", "data", "seconds", "plots",
                  "checksum"}
_CLAIM_FIELDS = {"id", "claim", "value", "measured", "threshold", "status", "reason"}


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


def read_record(path: str):
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


# ------------------------------------------------------------------------------------------ the folder
def _is_report(path: str) -> bool:
    """Whether ``path`` is the ``results.json`` of a deepdual report (this version's or an earlier one's)."""
    rec, why = read_record(path)
    if why is not None or not isinstance(rec, dict):
        return False
    return rec.get("format") == REPORT_FORMAT or {"summary", "claims", "experiments"} <= set(rec)


def _is_our_record(path: str) -> bool:
    rec, why = read_record(path)
    if why is not None or not isinstance(rec, dict):
        return False
    if "checksum" in rec:
        return rec["checksum"] == record_checksum(rec)
    return {"name", "config_hash", "claims"} <= set(rec)  # written before records had a checksum


def check_out_folder(out: str, names, name: str = "out") -> None:
    """Refuse (``ValueError``) an output folder where ``reproduce`` would replace a file it did not write.

    ``out`` may be missing, or a folder. Every path ``reproduce`` writes (``index.html``,
    ``results.json``, ``NAME.png``, ``NAME.plot.json``, ``records/NAME.json``) must be absent, a regular file or a link,
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
    targets = ["index.html", "results.json", *(f"{n}.png" for n in names), *(f"{n}.plot.json" for n in names),
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
