"""deepdual.sweeps.config: reading and validating a sweep config, the grid of runs, run keys."""

from __future__ import annotations

import pytest

from deepdual.sweeps import GRID_DEFAULTS, expand_grid, load_config, run_key

SMALL = {
    "kind": "closed_form",
    "grid": {"beta": [0.1, 1.0], "depth": [2, 3], "n": [8], "d": [4], "k": [1], "seed": [0, 1]},
}


def test_defaults_are_filled_in():
    cfg = load_config({})
    assert (cfg["kind"], cfg["activation"], cfg["data"], cfg["sleep"], cfg["noise"], cfg["name"]) == \
        ("closed_form", "linear", "teacher", 0.0, 0.0, "sweep")
    assert cfg["grid"] == GRID_DEFAULTS
    assert load_config({"activation": "relu"})["data"] == "whitened_classes"


def test_grid_keys_are_deterministic_and_unique():
    runs = expand_grid(load_config(SMALL))
    assert len(runs) == 8
    keys = [r["key"] for r in runs]
    assert len(set(keys)) == 8
    assert keys == [r["key"] for r in expand_grid(SMALL)]
    assert [r["params"]["beta"] for r in runs[:4]] == [0.1] * 4  # grid order: the first axis varies slowest
    # the sleep option does not change the keys; a parameter does
    assert keys == [r["key"] for r in expand_grid({**SMALL, "sleep": 0.5})]
    assert {r["options"]["sleep"] for r in expand_grid({**SMALL, "sleep": 0.5})} == {0.5}
    assert set(keys).isdisjoint(r["key"] for r in expand_grid({**SMALL, "noise": 0.1}))


def test_run_key_is_a_hash_of_the_canonical_parameters():
    a = run_key({"beta": 0.1, "depth": 2, "train": None})
    assert a == run_key({"depth": 2, "train": None, "beta": 0.1})  # key order does not matter
    assert len(a) == 16 and int(a, 16) >= 0
    assert a != run_key({"beta": 0.1, "depth": 3, "train": None})


def test_config_from_toml_file(tmp_path):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text('kind = "closed_form"\n[grid]\nbeta = 0.5\nseed = [0, 1, 1]\n')
    runs = expand_grid(cfg)
    assert len(runs) == 2  # scalar axis promoted to a list; repeated seeds deduplicated
    assert {r["params"]["beta"] for r in runs} == {0.5}
    assert [r["params"]["seed"] for r in runs] == [0, 1]


@pytest.mark.parametrize("config, match", [
    ({"kind": "nope"}, "`kind`"),
    ({"activation": "tanh"}, "`activation`"),
    ({"data": "mnist"}, "`data`"),
    ({"sleep": -1.0}, "`sleep` == -1.0, must be >= 0"),
    ({"noise": "loud"}, "`noise` must be a real number"),
    ({"grid": [1, 2]}, "`grid` must be a table"),
    ({"grid": {"betas": [1]}}, "`grid` has unknown"),
    ({"grid": {"beta": [-1.0]}}, r"`grid.beta\[0\]`"),
    ({"grid": {"depth": [1]}}, r"`grid.depth\[0\]`"),
    ({"grid": {"seed": []}}, "`grid.seed` is empty"),
    ({"grid": {"seed": [-1]}}, r"`grid.seed\[0\]` == -1, must be >= 0"),
    ({"grid": {"n": ["ten"]}}, r"`grid.n\[0\]`"),
    ({"train": 3}, "`train` must be a table"),
    ({"train": {"epochz": 3}}, "`train` has unknown"),
    ({"typo": 1}, "`config` has unknown"),
    ("/nonexistent/sweep.toml", "No sweep config"),
    (42, "`config` must be"),
])
def test_bad_config_one_line_error(config, match):
    with pytest.raises((ValueError, TypeError, FileNotFoundError), match=match) as info:
        load_config(config)
    assert "\n" not in str(info.value)


def test_invalid_toml_is_a_value_error(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("kind = [\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(cfg)
