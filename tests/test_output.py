"""Atomic writers: the destination is replaced whole or not at all."""

import json

import numpy as np
import pytest

from catenax.io.files import atomic_write, check_output_path, to_jsonable, write_result


def test_atomic_write_keeps_suffix_and_leaves_no_temp(tmp_path):
    seen = []

    def write(tmp):
        seen.append(tmp)
        tmp.write_text("new")

    path = atomic_write(tmp_path / "fig.png", write)
    assert path.read_text() == "new"
    assert seen[0].suffix == ".png" and seen[0].parent == tmp_path
    assert seen[0].name.startswith(".fig.")
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_failed_write_leaves_existing_file_untouched(tmp_path):
    path = tmp_path / "r.json"
    path.write_bytes(b"precious")

    def write(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, write)
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize(
    "name, match",
    [("a.txt", "unknown suffix"), ("missing/a.json", "does not exist"), ("d.json", "is a folder")],
)
def test_check_output_path(tmp_path, name, match):
    (tmp_path / "d.json").mkdir()
    with pytest.raises(ValueError, match=match) as err:
        check_output_path(tmp_path / name, (".json",), "--out")
    assert str(err.value).startswith("--out:")


def test_write_result_formats(tmp_path):
    data = {
        "method": "gd", "status": "converged", "converged": True, "steps": 3,
        "energy": -1.5, "grad_max": float("nan"), "y": [-1.0, -2.0, -1.0],
        "params": {"n": 3, "tol": None}, "tags": ["a", 1],
    }  # fmt: skip
    j = write_result(tmp_path / "r.json", data)
    loaded = json.loads(j.read_text())
    assert loaded["grad_max"] is None and loaded["y"] == data["y"]
    with np.load(write_result(tmp_path / "r.npz", data)) as z:
        np.testing.assert_array_equal(z["y"], data["y"])
        assert bool(z["converged"]) and int(z["steps"]) == 3
        assert json.loads(str(z["params"])) == {"n": 3, "tol": None}
        assert json.loads(str(z["tags"])) == ["a", 1]
    rows = write_result(tmp_path / "r.csv", data).read_text().splitlines()
    assert rows == ["j,x,y", "1,1,-1.0", "2,2,-2.0", "3,3,-1.0"]


def test_to_jsonable_is_strict_json():
    out = to_jsonable({"a": np.float32(0.5), "b": np.array([1, 2]), "c": float("inf")})
    assert out == {"a": 0.5, "b": [1, 2], "c": None}
    json.dumps(out, allow_nan=False)
