"""Sweeps: grids, a batch equal to a loop of single solves, isolation of bad cases, output."""

import itertools
import json
import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

import catenax
from catenax.errors import SweepInterrupted
from catenax.io import tables as sweepio
from catenax.io.scenario import parse_scenario, solve_scenario
from catenax.sweeps.api import sweep
from catenax.sweeps.grid import Grid, parse_key, parse_values

NET = {
    "structure": {
        "builder": "net",
        "rows": 4,
        "cols": 4,
        "stiffness": 50.0,
        "mass": 0.02,
        "gravity": [0.0, 0.0, -9.81],
        "loads": [[5, 0.0, 0.0, -0.5]],
    }
}


# ------------------------------------------------------------------ grids


@pytest.mark.parametrize("spec", ["0.8:1.4:61", "1:10:19", "5:-2:7", "1:1:4", "-3:7:1000"])
def test_range_is_linspace_bitwise(spec):
    s, e, c = spec.split(":")
    a = parse_values(spec, "--x")
    assert np.array_equal(a.values(), np.linspace(float(s), float(e), int(c)))


def test_list_and_single_values():
    assert parse_values("0.8,1.0,1.2", "--length").values().tolist() == [0.8, 1.0, 1.2]
    assert parse_values("2", "--n").values().tolist() == [2.0]
    assert parse_values([1, 2.5], "x").values().tolist() == [1.0, 2.5]


@pytest.mark.parametrize(
    "spec, words",
    [
        ("", "empty value"),
        ("   ", "empty value"),
        ("1:2", "has 2 parts"),
        ("1:2:3:4", "has 4 parts"),
        ("1:2:0", "is empty (count 0)"),
        ("1:2:2.5", "not a whole number"),
        ("1:2:x", "not a whole number"),
        ("a:2:3", "'a' is not a number"),
        ("0.8,,1.2", "item 2"),
        ("0.8,abc", "'abc' is not a number"),
        ("nan", "not finite"),
        ("1:inf:3", "not finite"),
        ("1:2:1", "count 1 but start != stop"),
        ("1,2:3:4", "mixes a list and a range"),
    ],
)
def test_malformed_values_name_the_option(spec, words):
    with pytest.raises(ValueError, match="^--spring: ") as e:
        parse_values(spec, "--spring")
    assert words in str(e.value)


def test_grid_is_the_cartesian_product_in_c_order():
    axes = [parse_values("1,2", "a"), parse_values("0:1:3", "b"), parse_values("5,6", "c")]
    g = Grid(axes)
    expect = list(itertools.product([1.0, 2.0], [0.0, 0.5, 1.0], [5.0, 6.0]))
    for start, stop in ((0, 12), (3, 7), (11, 12)):
        v = g.values(start, stop)
        got = list(zip(v["a"], v["b"], v["c"], strict=True))
        assert got == expect[start:stop]
    assert g.size == 12 and [a.name for a in g.varied()] == ["a", "b", "c"]


def test_huge_grid_is_never_materialised():
    g = Grid([parse_values(f"0:1:{10**4}", "a"), parse_values(f"0:1:{10**4}", "b")])
    assert g.size == 10**8
    v = g.values(10**8 - 2, 10**8)
    assert v["a"].tolist() == [1.0, 1.0] and v["b"][-1] == 1.0


def test_parse_key():
    assert parse_key("structure.loads[0][2]") == ("structure", "loads", 0, 2)
    assert parse_key("structure.gravity[1]") == ("structure", "gravity", 1)
    with pytest.raises(ValueError, match="not a scenario key"):
        parse_key("structure..x")


# ------------------------------------------------------------------ sweep == loop


def _minimize(spring, length, mass_g, n=20, **kw):
    return catenax.minimize(catenax.chain_energy, jnp.zeros(n), spring, length, mass_g, **kw)


def test_chain_sweep_equals_a_loop_of_single_solves():
    # l < 1 convex, l = 1 singular, l > 1 non-convex; mass_g = 0 at l > 1 starts on a saddle.
    r = sweep(spring="2,5", length="0.8,1.0,1.2", mass_g="0,0.1", keep_shapes=True)
    t = r.table
    assert r.n_cases == r.done == 12 and len(t["case"]) == 12
    assert t["case"].tolist() == list(range(12))
    for i in range(12):
        m = _minimize(t["spring"][i], t["length"][i], t["mass_g"][i])
        assert t["status"][i] == m.status, i
        assert t["steps"][i] == m.steps
        np.testing.assert_allclose(r.positions[i], m.positions, rtol=0, atol=1e-12)
        np.testing.assert_allclose(t["energy"][i], m.energy, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(t["grad_max"][i], m.grad_max, rtol=1e-3, atol=1e-12)
        np.testing.assert_allclose(t["min_eigenvalue"][i], m.extra["min_eigenvalue"], atol=1e-9)
        assert t["stable"][i] == m.extra["stable"]
        y = np.concatenate([[0.0], m.positions, [0.0]])
        assert t["lowest"][i] == pytest.approx(y.min(), abs=1e-12)
        tension = t["spring"][i] * (np.sqrt(np.diff(y) ** 2 + 1) - t["length"][i])
        assert t["max_tension"][i] == pytest.approx(tension.max(), abs=1e-12)
    # the flat start at l = 1.2 without gravity is a stationary saddle: reported, not converged
    saddle = (t["length"] == 1.2) & (t["mass_g"] == 0.0)
    assert set(t["status"][saddle]) == {"saddle"}
    assert np.all(t["start_min_eigenvalue"][t["length"] > 1] < -1)
    assert np.all(t["start_min_eigenvalue"][t["length"] < 1] > 0)


def test_the_driver_in_segments_equals_one_run():
    # Sweeps run minimize's loop in segments (start, advance, advance, ..., finish).
    import jax

    from catenax.solve import make_run as _make_run
    from catenax.solvers import resolve_method

    run = _make_run(catenax.chain_energy, resolve_method("newton"), 200, None, True, False)
    args = ((5.0, 1.2, 0.1), jnp.ones(20), jnp.asarray(1e-10), jnp.asarray(0.0))
    whole = jax.jit(run)(jnp.zeros(20), *args)
    carry = jax.jit(run.start)(jnp.zeros(20), *args)
    for until in (1, 2, 5, 9, 200):
        carry = jax.jit(run.advance)(carry, jnp.int32(until), *args)
        assert int(carry[0]) <= until
    parts = jax.jit(run.finish)(carry, *args)
    assert whole["steps"] > 9
    for k in ("steps", "x", "e", "gmax", "status"):
        assert np.array_equal(parts[k], whole[k]), k


def test_finished_cases_are_frozen_while_neighbours_keep_stepping():
    # Case 0 converges in a few steps; its neighbours (l > 1) need many more. Its
    # result must not depend on them: equal to a batch of copies of itself, bit for bit.
    mixed = sweep(length="0.8,1.2,1.3,1.15", keep_shapes=True)
    alone = sweep(length="0.8,0.8,0.8,0.8", keep_shapes=True)
    assert mixed.table["steps"][0] < mixed.table["steps"][1:].max()
    for key in ("steps", "energy", "grad_max", "min_eigenvalue"):
        assert mixed.table[key][0] == alone.table[key][0], key
    assert np.array_equal(mixed.positions[0], alone.positions[0])


def test_a_diverging_case_does_not_spoil_its_neighbours():
    # Plain gradient descent with eta = 0.2 is stable for K = 1..5 but not for K = 50
    # (eta > 2 / lambda_max): that case diverges, the others run as they would alone.
    kw = dict(method="gd", learning_rate=0.2, max_steps=3000)
    r = sweep(spring="1,50,5", **kw, keep_shapes=True)
    assert r.table["status"].tolist()[1] == "diverged"
    assert r.table["stable"][1] is None and np.isnan(r.table["min_eigenvalue"][1])
    for i in (0, 2):
        m = _minimize(r.table["spring"][i], 0.8, 0.1, **kw)
        assert r.table["status"][i] == m.status != "diverged"
        assert r.table["steps"][i] == m.steps
        np.testing.assert_allclose(r.positions[i], m.positions, atol=1e-12)
    m = _minimize(50.0, 0.8, 0.1, **kw)
    assert m.status == "diverged" and r.table["steps"][1] == m.steps


def test_several_n_are_grouped():
    r = sweep(n="3,5", length="0.9,1.1", keep_shapes=True)
    assert r.table["n"].tolist() == [3, 3, 5, 5]
    assert [p.shape for p in r.positions] == [(2, 3), (2, 5)]
    for i in range(4):
        m = _minimize(5.0, r.table["length"][i], 0.1, n=int(r.table["n"][i]))
        assert r.table["status"][i] == m.status
        assert r.table["energy"][i] == pytest.approx(m.energy, abs=1e-12)


def test_multistart_inside_a_sweep_equals_minimize_multistart():
    r = sweep(length="0.9,1.2", multistart=6, seed=3, keep_shapes=True)
    assert "n_minima" in r.columns and "start" in r.columns
    for i in range(2):
        m = _minimize(5.0, r.table["length"][i], 0.1, multistart=6, seed=3)
        assert r.table["status"][i] == m.status
        assert r.table["n_minima"][i] == len(m.extra["minima"])
        assert r.table["energy"][i] == pytest.approx(m.energy, abs=1e-10)
        # mirror-image minima have the same energy up to round-off: either may be picked
        ties = [q["start"] for q in m.extra["minima"] if abs(q["energy"] - m.energy) < 1e-10]
        assert r.table["start"][i] in ties
        if r.table["start"][i] == m.extra["start_index"]:
            np.testing.assert_allclose(r.positions[i], m.positions, atol=1e-9)
    assert r.table["n_minima"][1] > 1  # l = 1.2: several minima
    assert r.table["n_minima"][0] == 1  # l = 0.9: convex


def test_float32_sweep():
    r = sweep(length="0.8,1.2", dtype="float32")
    assert r.table["status"].tolist() == ["converged", "converged"]
    assert r.table["energy"][0] == pytest.approx(-0.9263223, abs=1e-4)


# ------------------------------------------------------------------ scenarios


def _scenario_with(data, key_values):
    import copy

    d = copy.deepcopy(data)
    for path, v in key_values:
        node = d
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = v
    return parse_scenario(d)


def test_scenario_sweep_equals_a_loop_of_solves():
    vary = {
        "structure.stiffness": "30,60",
        "structure.gravity[2]": "-9.81,-5",
        "structure.loads[0][3]": "-0.5:-2:2",
    }
    r = sweep(NET, vary, keep_shapes=True)
    assert r.n_cases == 8
    paths = [parse_key(k) for k in vary]
    for i in range(8):
        vals = [r.table[k][i] for k in vary]
        s = _scenario_with(NET, zip(paths, vals, strict=True))
        m = solve_scenario(s)
        assert r.table["status"][i] == m.status
        assert r.table["steps"][i] == m.steps
        np.testing.assert_allclose(r.positions[i], m.positions, atol=1e-10)
        assert r.table["energy"][i] == pytest.approx(m.energy, abs=1e-10)
        assert r.table["min_eigenvalue"][i] == pytest.approx(m.extra["min_eigenvalue"], rel=1e-6)
        t = catenax.tensions(jnp.asarray(m.positions), s.network)
        assert r.table["max_tension"][i] == pytest.approx(float(t.max()), rel=1e-9)
        assert r.table["lowest"][i] == pytest.approx(float(m.positions[:, -1].min()), abs=1e-12)


def test_scenario_keys_that_are_not_affine_are_built_per_case():
    data = {"structure": {"builder": "chain2d", "n": 6, "span": 1.0, "sag": 0.2}}
    with pytest.warns(UserWarning, match="not change the network linearly"):
        r = sweep(data, {"structure.sag": "0.2,0.3,0.5"}, keep_shapes=True)
    for i, sag in enumerate((0.2, 0.3, 0.5)):
        m = solve_scenario(_scenario_with(data, [(("structure", "sag"), sag)]))
        assert r.table["status"][i] == m.status
        np.testing.assert_allclose(r.positions[i], m.positions, atol=1e-10)


@pytest.mark.parametrize(
    "key, words",
    [
        ("structure.nope", "no key structure.nope"),
        ("structure.gravity", "is a list; vary one entry"),
        ("structure.gravity[7]", "index 7 out of range"),
        ("structure.loads[0][0]", "node index cannot be swept"),
        ("structure.supports", "not a number that can be swept"),
        ("structure.builder", "not a number that can be swept"),
        ("solver.max_steps", "only [structure] keys"),
        ("structure.rows", "changes the network's shape"),
        ("structure.mass", "is invalid"),
    ],
)
def test_bad_vary_keys(key, words):
    values = "-1,0.5" if key == "structure.mass" else "3,4"
    with pytest.raises(ValueError, match=r"^vary\[") as e:
        sweep({**NET, "structure": {**NET["structure"], "supports": "corners"}}, {key: values})
    assert words in str(e.value)


def test_non_numeric_key():
    data = {"structure": {**NET["structure"], "title_note": None}}
    data["structure"].pop("title_note")
    data["title"] = "x"
    with pytest.raises(ValueError, match="only \\[structure\\] keys"):
        sweep(data, {"title": "1,2"})


# ------------------------------------------------------------------ output


def test_file_equals_memory_and_reads_back(tmp_path):
    mem = sweep(length="0.8:1.2:5", spring="4,5")
    for suffix in (".csv", ".jsonl"):
        out = tmp_path / f"r{suffix}"
        r = sweep(length="0.8:1.2:5", spring="4,5", out=out, chunk_size=3)
        assert r.table is None and r.done == 10
        t = sweepio.read_table(out)
        assert list(t) == list(mem.columns)
        for k in mem.columns:
            if k == "stable":
                assert t[k].tolist() == [bool(v) for v in mem.table[k]]
            else:
                assert np.array_equal(t[k], mem.table[k]), (suffix, k)
        meta = json.loads(sweepio.meta_path(out).read_text())
        assert meta["complete"] and meta["cases"] == 10 and meta["chunk_size"] == 3
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert all(json.loads(x)["case"] == i for i, x in enumerate(lines))


def test_existing_output_is_not_touched(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text("precious\n")
    with pytest.raises(ValueError, match="^out: .* exists; add --overwrite"):
        sweep(length="0.8,1.0", out=out)
    assert out.read_text() == "precious\n"
    sweep(length="0.8,1.0", out=out, overwrite=True)
    assert out.read_text().startswith("case,n,spring")


def test_max_cases_guard():
    with pytest.raises(ValueError, match="^max_cases: the grid has 25,000,000 cases"):
        sweep(spring="1:2:5000", length="0.5:1.5:5000")
    with pytest.raises(ValueError, match="force=True"):
        sweep(length="0.8:1.2:11", max_cases=10)


def _interrupt_after(monkeypatch, k):
    calls = {"n": 0}
    real = sweepio.TableWriter.append

    def append(self, *a, **kw):
        if calls["n"] == k:
            raise KeyboardInterrupt
        calls["n"] += 1
        return real(self, *a, **kw)

    monkeypatch.setattr(sweepio.TableWriter, "append", append)
    return lambda: monkeypatch.setattr(sweepio.TableWriter, "append", real)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resume_after_interruption_equals_an_uninterrupted_run(tmp_path, monkeypatch, suffix):
    kw = dict(length="0.7:1.3:23", mass_g="0.05,0.1", chunk_size=5, keep_shapes=True)
    whole = tmp_path / f"whole{suffix}"
    sweep(out=whole, **kw)
    part = tmp_path / f"part{suffix}"
    restore = _interrupt_after(monkeypatch, 3)
    with pytest.raises(SweepInterrupted) as e:
        sweep(out=part, **kw)
    restore()
    assert e.value.done == 15 and e.value.total == 46
    # a valid file with the finished chunks (and their shapes)
    assert sweepio.read_table(part)["case"].tolist() == list(range(15))
    assert np.load(sweepio.npz_path(part))["positions"].shape == (15, 20)
    assert not json.loads(sweepio.meta_path(part).read_text())["complete"]
    # a hard kill in the middle of a write: a partial last line
    with open(part, "ab") as f:
        f.write(b"15,20,5.0,0.9")
    r = sweep(out=part, resume=True, **kw)
    assert r.resumed_from == 15 and r.done == 46
    assert part.read_bytes() == whole.read_bytes()
    a, b = np.load(sweepio.npz_path(part)), np.load(sweepio.npz_path(whole))
    assert sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)
    assert not sweepio.shapes_path(part).exists()
    # resuming a finished sweep changes nothing
    before = sweepio.npz_path(part).read_bytes()
    r = sweep(out=part, resume=True, **kw)
    assert r.counts == {} and r.done == 46 and part.read_bytes() == whole.read_bytes()
    assert sweepio.npz_path(part).read_bytes() == before


def test_resume_mid_chunk_and_with_other_settings(tmp_path):
    kw = dict(length="0.8:1.2:9", chunk_size=4)
    whole, part = tmp_path / "w.csv", tmp_path / "p.csv"
    sweep(out=whole, **kw)
    sweep(out=part, **kw)
    lines = part.read_bytes().splitlines(keepends=True)
    part.write_bytes(b"".join(lines[:7]))  # header + 6 rows: cut inside the second chunk
    r = sweep(out=part, resume=True, **kw)
    assert r.resumed_from == 6 and part.read_bytes() == whole.read_bytes()
    with pytest.raises(ValueError, match="^out: cannot resume .* length"):
        sweep(out=part, resume=True, length="0.8:1.2:10", chunk_size=4)
    with pytest.raises(ValueError, match="^chunk_size: 3 differs"):
        sweep(out=part, resume=True, length="0.8:1.2:9", chunk_size=3)
    r = sweep(out=part, resume=True, **kw)  # complete: nothing to do
    assert r.counts == {} and part.read_bytes() == whole.read_bytes()


def test_sample_shapes_for_figures():
    r = sweep(length="0.8:1.2:9", sample_shapes=3)
    assert r.sample["case"].tolist() == [0, 4, 8]
    assert r.sample["length"].tolist() == [0.8, 1.0, 1.2]
    m = _minimize(5.0, 1.2, 0.1)
    np.testing.assert_allclose(r.sample["positions"][2], m.positions, atol=1e-12)


# ------------------------------------------------------------------ devices

SHARDED = textwrap.dedent(
    """
    import jax, numpy as np, sys
    jax.config.update("jax_num_cpu_devices", 4)
    jax.config.update("jax_enable_x64", True)
    from catenax.sweeps.api import sweep
    assert len(jax.local_devices()) == 4
    net = {"structure": {"builder": "net", "rows": 3, "cols": 4, "mass": 0.02,
                         "stiffness": 50.0, "gravity": [0.0, 0.0, -9.81]}}
    for kw in (dict(length="0.7:1.3:13", mass_g="0,0.1"),
               dict(length="0.9,1.2,1.3", multistart=3),
               dict(scenario=net, vary={"structure.stiffness": "20:80:7"})):
        one = sweep(devices=1, chunk_size=3, keep_shapes=True, **kw)
        four = sweep(devices=4, chunk_size=3, keep_shapes=True, **kw)
        for k in one.columns:
            a, b = one.table[k], four.table[k]
            assert np.array_equal(a, b) or all(x == y or (x != x and y != y)
                                               for x, y in zip(a, b)), k
        assert np.array_equal(one.positions, four.positions)
    print("identical")
    """
)


@pytest.mark.slow
def test_sharded_over_four_cpu_devices_equals_unsharded():
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "JAX_PLATFORMS": "cpu"}
    p = subprocess.run(
        [sys.executable, "-c", SHARDED], capture_output=True, text=True, timeout=600, env=env
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert "identical" in p.stdout
