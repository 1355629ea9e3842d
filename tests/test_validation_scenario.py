"""Issue 11, scenario files and builders: every bad value refused up front, every size bounded.

* every ``[solver]`` and ``[structure]`` key goes through a typed reader: no
  strings as booleans (``stability = "no"`` was taken as true), no booleans or
  strings as numbers, integers in range, finite numbers; the message names the
  file, ``table.key`` and the fix (hypothesis puts wrong-typed values in every key);
* parsing failures (nesting too deep, numbers too long, not UTF-8, NUL, a key
  given twice) and files that are not regular (a FIFO, ``/dev/zero``) or too
  large are ``ValueError``\\ s naming the file, and exit 2 on the command line;
* builders and scenario networks are refused before allocating when they would
  need more memory than the limit (``net(10**6, 10**6)``, cloth 3000 x 3000);
* the Python API's networks refuse booleans, strings, complex and huge numbers;
* forces that would overflow in the run's dtype are refused with the limit.
"""

import json
import os
import signal
import time
from contextlib import contextmanager

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catenax
import catenax.io.scenario_text as scenario_text
from catenax.errors import ResourceLimit
from catenax.io import load_scenario, parse_scenario
from catenax.limits import set_memory_limit
from catenax.model import check_dtype_range

CHAIN = {"builder": "chain2d", "n": 3}
EXPLICIT = {
    "dim": 2,
    "nodes": [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]],
    "springs": [[0, 1], [1, 2]],
    "stiffness": 10.0,
    "rest_length": 1.0,
    "mass": 1.0,
    "gravity": [0.0, -1.0],
    "fixed": [0, 2],
    "cables": False,
    "loads": [[1, 0.0, -1.0]],
}


def refused(data, key, *words):
    """``parse_scenario(data)`` raises a ValueError naming ``key`` and ``words``."""
    with pytest.raises(ValueError) as info:
        parse_scenario(data, name="s.toml")
    msg = str(info.value)
    assert msg.startswith("s.toml"), msg
    assert f"{key}:" in msg, (key, msg)
    for w in words:
        assert w in msg, (w, msg)
    return msg


@contextmanager
def deadline(seconds):
    """Fail instead of hanging (a FIFO opened for reading blocks until a writer comes)."""

    def fail(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ------------------------------------------------------------- typed readers

SOLVER_BAD = [
    ("stability", "no", ["true or false", "stability = false"]),
    ("stability", "yes", ["true or false", "stability = true"]),
    ("stability", 0, ["true or false"]),
    ("history", "false", ["true or false"]),
    ("max_steps", "5", ["not an integer", "no quotes"]),
    ("max_steps", 5.5, ["not a whole number"]),
    ("max_steps", True, ["not an integer"]),
    ("max_steps", 2**32 + 1, ["int32"]),
    ("max_steps", 10**400, ["int32"]),
    ("record_every", 2**40, ["<= 2147483647"]),
    ("multistart", 0, [">= 1"]),
    ("seed", "1", ["not an integer"]),
    ("seed", -1, [">= 0"]),
    ("seed", 2**40, ["<= 4294967295"]),
    ("tol", "1e-8", ["not a number", "no quotes"]),
    ("tol", True, ["not a number"]),
    ("tol", 10**400, ["not finite", "float64"]),
    ("atol", -1.0, [">= 0"]),
    ("learning_rate", False, ["not a number"]),
    ("learning_rate", 0.0, ["> 0"]),
    ("perturbation", "big", ["not a number"]),
    ("method", 5, ["not a string"]),
    ("method", "bogus", ["unknown method", "newton"]),
    ("schedule", 5, ["not a string"]),
]


@pytest.mark.parametrize("key, value, words", SOLVER_BAD)
def test_solver_keys_are_typed(key, value, words):
    refused({"structure": CHAIN, "solver": {key: value}}, f"solver.{key}", *words)


def test_solver_good_values_pass_and_keep_their_types():
    s = parse_scenario(
        {
            "structure": CHAIN,
            "solver": {"stability": False, "max_steps": 5.0, "tol": 0, "seed": 3, "history": True},
        }
    )
    assert s.solver_settings == {
        "stability": False, "max_steps": 5, "tol": 0.0, "seed": 3, "history": True,
    }  # fmt: skip
    assert type(s.solver_settings["max_steps"]) is int


BUILDER_BAD = [
    ({"builder": "chain2d", "n": 3, "cables": "yes"}, "cables", ["true or false"]),
    ({"builder": "net", "rows": 3, "cols": 3, "cables": "no"}, "cables", ["cables = false"]),
    ({"builder": "chain2d", "n": True}, "n", ["not an integer"]),
    ({"builder": "chain2d", "n": "3"}, "n", ["no quotes"]),
    ({"builder": "chain2d", "n": 3, "stiffness": True}, "stiffness", ["not a number"]),
    ({"builder": "chain2d", "n": 3, "gravity": "9.81"}, "gravity", ["not a number"]),
    ({"builder": "chain2d", "n": 3, "gravity": True}, "gravity", ["not a number"]),
    ({"builder": "chain2d", "n": 3, "span": float("inf")}, "span", ["not finite"]),
    ({"builder": "chain2d", "n": 3, "sag": 10**400}, "sag", ["not finite"]),
    ({"builder": "net", "rows": 10**30, "cols": 3}, "rows", ["too large", "2147483647"]),
    ({"builder": "net", "rows": 3, "cols": 3, "supports": {"a": 1}}, "supports", ["string"]),
    ({"builder": "net", "rows": 3, "cols": 3, "supports": [2**40]}, "supports", ["node"]),
    ({"builder": "net", "rows": 3, "cols": 3, "supports": [10**30]}, "supports", ["node"]),
    ({"builder": "chain2d", "dim": "2"}, "dim", ["not an integer"]),
    ({"builder": ["net"]}, "builder", ["not a string"]),
    ({"builder": "chain", "y": [1.0, True]}, "y", ["y[1] = True is not a number"]),
]


@pytest.mark.parametrize("structure, key, words", BUILDER_BAD)
def test_builder_keys_are_typed(structure, key, words):
    refused({"structure": structure}, f"structure.{key}", *words)


EXPLICIT_BAD = [
    ("springs", [[0, 1], [1, 10**30]], ["does not exist", "0 to 2"]),
    ("springs", [[0, 1], [1, 2**40]], ["does not exist"]),
    ("fixed", [10**30], ["not a node index", "0 to 2"]),
    ("fixed", [True], ["not a node index"]),
    ("nodes", [[0.0, 10**400], [1.0, 0.0], [2.0, 0.0]], ["nodes[0][1]", "not finite"]),
    ("stiffness", 10**400, ["not finite"]),
    ("stiffness", [True, 1.0], ["stiffness[0] = True is not a number"]),
    ("mass", "1", ["not a number"]),
    ("cables", "no", ["true or false"]),
    ("cables", 0, ["true or false"]),
    ("dim", True, ["2 or 3"]),
    ("loads", [[1, True, 0.0]], ["loads[0][1] = True"]),
    ("loads", [[1, "0", 0.0]], ["loads[0][1] = '0'"]),
    ("gravity", [0.0, float("nan")], ["not finite"]),
]


@pytest.mark.parametrize("key, value, words", EXPLICIT_BAD)
def test_explicit_keys_are_typed(key, value, words):
    refused({"structure": {**EXPLICIT, key: value}}, f"structure.{key}", *words)


#: Values of the wrong kind for a key that wants a number, an integer, a boolean.
WRONG_FOR_NUMBER = st.one_of(
    st.booleans(), st.text(max_size=4), st.dictionaries(st.text(max_size=2), st.integers())
)
WRONG_FOR_BOOL = st.one_of(
    st.integers(), st.floats(), st.sampled_from(["no", "yes", "false", "true", "0", "1", ""])
)
KINDS = {
    "solver": {
        "max_steps": WRONG_FOR_NUMBER, "tol": WRONG_FOR_NUMBER, "seed": WRONG_FOR_NUMBER,
        "learning_rate": WRONG_FOR_NUMBER, "multistart": WRONG_FOR_NUMBER,
        "stability": WRONG_FOR_BOOL, "history": WRONG_FOR_BOOL,
    },
    "chain2d": {
        "n": WRONG_FOR_NUMBER, "span": WRONG_FOR_NUMBER, "stiffness": WRONG_FOR_NUMBER,
        "mass": WRONG_FOR_NUMBER, "cables": WRONG_FOR_BOOL,
    },
    "net": {
        "rows": WRONG_FOR_NUMBER, "spacing": WRONG_FOR_NUMBER, "mass": WRONG_FOR_NUMBER,
        "cables": WRONG_FOR_BOOL,
    },
    "explicit": {
        "stiffness": WRONG_FOR_NUMBER, "mass": WRONG_FOR_NUMBER, "rest_length": st.booleans(),
        "cables": WRONG_FOR_BOOL, "dim": WRONG_FOR_NUMBER,
    },
}  # fmt: skip


@st.composite
def wrong_documents(draw):
    """A valid scenario with one key set to a value of the wrong kind."""
    where = draw(st.sampled_from(sorted(KINDS)))
    key = draw(st.sampled_from(sorted(KINDS[where])))
    value = draw(KINDS[where][key])
    if where == "solver":
        return {"structure": dict(CHAIN), "solver": {key: value}}, f"solver.{key}"
    base = {"explicit": EXPLICIT, "chain2d": CHAIN, "net": {"builder": "net", "rows": 3}}[where]
    return {"structure": {**base, key: value}}, f"structure.{key}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=wrong_documents(), as_json=st.booleans())
def test_wrong_kind_in_any_key_is_refused_by_name(case, as_json):
    data, key = case
    if as_json:  # the same through a file: JSON keeps every kind drawn
        data = json.loads(json.dumps(data))
    refused(data, key)


def test_valid_documents_still_load():
    assert parse_scenario({"structure": EXPLICIT}).network.n_nodes == 3
    net = parse_scenario({"structure": {"builder": "net", "rows": 3.0, "cols": 4}}).network
    assert net.n_nodes == 12 and net.cables is True
    s = parse_scenario({"structure": {**CHAIN, "gravity": [0.0, -2], "cables": True}})
    assert s.network.cables is True


# ---------------------------------------------------------------- file reading


def _write(tmp_path, name, content):
    p = tmp_path / name
    (p.write_bytes if isinstance(content, bytes) else p.write_text)(content)
    return p


FILE_BAD = [
    ("deep.json", '{"structure": ' + "[" * 100_000 + "]" * 100_000 + "}", ["nested too deeply"]),
    ("deep.toml", "[structure]\nnodes = " + "[" * 100_000 + "]" * 100_000, ["nested too deep"]),
    ("long.json", '{"structure": {"n": 1' + "0" * 5000 + "}}", ["more than", "digits"]),
    ("long.toml", "[structure]\nn = 1" + "0" * 5000, ["more than", "digits"]),
    ("latin1.toml", b'title = "caf\xe9"\n', ["latin1.toml:1:", "not UTF-8", "column 13"]),
    ("nul.toml", b'[structure]\nbuilder = "net"\x00', ["nul.toml:2:", "NUL", "column 16"]),
    (
        "twice.json",
        '{"structure": {"builder": "net",\n "rows": 3, "rows": 4}}',
        ["'rows'", "twice"],
    ),
    (
        "stab.toml",
        '[structure]\nbuilder = "chain2d"\n[solver]\nstability = "no"\n',
        ["stab.toml:4:"],
    ),
    (
        "huge.json",
        '{"structure": {"builder": "net", "rows": 1' + "0" * 400 + "}}",
        ["structure.rows"],
    ),
]


@pytest.mark.parametrize("name, content, words", FILE_BAD)
def test_parse_failures_are_value_errors_naming_the_file(tmp_path, name, content, words):
    with pytest.raises(ValueError) as info:
        load_scenario(_write(tmp_path, name, content))
    msg = str(info.value)
    assert msg.startswith(name), msg
    for w in words:
        assert w in msg, (w, msg)


def test_a_utf8_byte_order_mark_is_skipped(tmp_path):
    p = _write(tmp_path, "bom.json", b'\xef\xbb\xbf{"structure": {"builder": "chain2d"}}')
    assert load_scenario(p).network.n_nodes == 22


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with deadline(10), pytest.raises(ValueError, match=r"FIFO.*not a regular file"):
        load_scenario(fifo)


def test_dev_zero_and_folders_are_refused_without_reading(tmp_path):
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with deadline(10), pytest.raises(ValueError, match="character device, not a regular file"):
        load_scenario(link)
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(ValueError, match="a folder, not a regular file"):
        load_scenario(folder)


def test_files_over_the_size_limit_are_refused(tmp_path, monkeypatch):
    p = _write(tmp_path, "s.toml", '[structure]\nbuilder = "chain2d"\n' + "# pad\n" * 100)
    assert load_scenario(p).network.n_nodes == 22
    monkeypatch.setattr(scenario_text, "MAX_SCENARIO_BYTES", 256)
    with pytest.raises(ValueError, match=r"s.toml: the file is larger than 256 B.*MAX_SCENARIO"):
        load_scenario(p)


# ------------------------------------------------------------ builder sizes


@pytest.mark.parametrize(
    "build, field",
    [
        (lambda: catenax.net(10**6, 10**6), "rows"),
        (lambda: catenax.net(100_000, 100_000), "rows"),
        (lambda: catenax.cloth(3000, 3000), "rows"),
        (lambda: catenax.chain2d(10**9), "n"),
        (lambda: catenax.chain_network(10**9), "n"),
    ],
)
def test_huge_builders_are_refused_before_allocating(build, field):
    old = set_memory_limit("16G")
    try:
        t0 = time.perf_counter()
        with pytest.raises(ResourceLimit) as info:
            build()
        assert time.perf_counter() - t0 < 1.0
    finally:
        set_memory_limit(old)
    assert info.value.field == field
    msg = str(info.value)
    assert msg.startswith(f"{field}: ") and "would need" in msg and "memory limit" in msg, msg


def test_the_limit_decides_and_the_scenario_names_the_key():
    old = set_memory_limit("1M")
    try:
        with pytest.raises(ResourceLimit, match="rows: a 100 x 100 net"):
            catenax.net(100, 100)
        refused({"structure": {"builder": "cloth", "rows": 60, "cols": 60}}, "structure.rows",
                "would need", "memory limit")  # fmt: skip
        nodes = [[float(i), 0.0] for i in range(2000)]
        springs = [[i, i + 1] for i in range(1999)]
        big = {**EXPLICIT, "nodes": nodes, "springs": springs, "fixed": [0, 1999], "loads": []}
        refused({"structure": big}, "structure.nodes", "would need")
    finally:
        set_memory_limit(old)
    assert catenax.net(100, 100).n_nodes == 10_000


def test_absurd_counts_are_refused_before_numpy():
    with pytest.raises(ValueError, match=r"rows: .* too large; use an integer <= 2147483647"):
        catenax.net(10**30, 3)
    with pytest.raises(TypeError, match="rows: expected an integer"):
        catenax.net(3.0, 3)


# ---------------------------------------------------------- Python API networks

POS = [[0.0, 0.0], [1.0, 0.0]]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(positions=[[True, False], [1.0, 0.0]]), TypeError, ["positions", "booleans"]),
        (dict(positions=[["0", "0"], ["1", "0"]]), TypeError, ["positions", "expected numbers"]),
        (dict(positions=[[0, 10**400], [1, 0]]), ValueError, ["positions", "too large"]),
        (dict(stiffness="5"), TypeError, ["stiffness", "expected numbers"]),
        (dict(stiffness=True), TypeError, ["stiffness", "booleans"]),
        (dict(mass=1j), TypeError, ["mass"]),
        (dict(gravity=True), TypeError, ["gravity", "booleans"]),
        (dict(gravity="9.81"), TypeError, ["gravity"]),
        (dict(springs=[[0, 10**30]]), ValueError, ["springs", "does not exist"]),
        (dict(fixed=[10**30]), ValueError, ["fixed", "does not exist"]),
        (dict(cables="no"), TypeError, ["cables", "True or False"]),
        (dict(cables=1), TypeError, ["cables"]),
        (dict(loads=[["1", "0"], [0, 0]]), TypeError, ["loads"]),
    ],
)
def test_from_arrays_refuses_what_is_not_a_number(kwargs, error, words):
    args = {"positions": POS, "springs": [[0, 1]], "fixed": [0], **kwargs}
    with pytest.raises(error) as info:
        catenax.from_arrays(args.pop("positions"), args.pop("springs"), **args)
    msg = str(info.value)
    assert msg.startswith(words[0] + ":"), msg
    for w in words[1:]:
        assert w in msg, (w, msg)


def test_builders_refuse_strings_and_booleans():
    with pytest.raises(TypeError, match="cables: expected True or False"):
        catenax.net(3, 3, cables="no")
    with pytest.raises(TypeError, match="gravity"):
        catenax.cloth(3, 3, gravity=True)
    with pytest.raises(TypeError, match="y: expected numbers"):
        catenax.chain_network(y=["1", "2"])


def test_networks_still_travel_through_jit_and_vmap():
    net = catenax.chain2d(3)
    assert float(jax.jit(lambda n: n.positions.sum())(net)) == pytest.approx(
        float(net.positions.sum())
    )
    stacked = jax.tree.map(lambda a: np.stack([a, a]), net)
    assert jax.vmap(lambda n: n.stiffness.sum())(stacked).shape == (2,)


# ------------------------------------------------------------- dtype overflow


def test_forces_that_overflow_the_dtype_are_refused():
    check_dtype_range(catenax.chain2d(3, stiffness=1e30), "float64")
    with pytest.raises(ValueError) as info:
        check_dtype_range(catenax.chain2d(3, stiffness=1e30), "float32")
    msg = str(info.value)
    assert msg.startswith("stiffness: ") and "float32" in msg and "or float64" in msg, msg
    big = catenax.chain2d(3, stiffness=1e160) if jax.config.jax_enable_x64 else None
    if big is not None:
        with pytest.raises(ValueError, match="float64") as info:
            check_dtype_range(big, "float64")
        assert "or float64" not in str(info.value)


def test_solve_scenario_refuses_forces_beyond_the_dtype():
    s = parse_scenario({"structure": {**CHAIN, "stiffness": 1e30}})
    net = jax.tree.map(
        lambda a: a.astype(np.float32) if np.issubdtype(a.dtype, np.floating) else a, s.network
    )
    with pytest.raises(ValueError, match="stiffness: .*float32"):
        catenax.solve_scenario(type(s)(network=net))


# ------------------------------------------------------------------------ CLI


def test_cli_exit_2_for_bad_files(invoke, tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    cases = [
        (fifo, ["pipe.toml", "FIFO"]),
        (_write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000), ["nested too deeply"]),
        (_write(tmp_path, "stab.toml", FILE_BAD[-2][1]), ["stab.toml:4:", "solver.stability"]),
        (_write(tmp_path, "big.toml", '[structure]\nbuilder = "net"\nrows = 1000000\n'
                                      "cols = 1000000\n"), ["big.toml:3:", "would need"]),
    ]  # fmt: skip
    for path, words in cases:
        with deadline(60):
            r = invoke("relax", path, "--json")
        assert r.exit_code == 2, (path, r.output)
        assert "Traceback" not in r.output
        for w in words:
            assert w in r.output, (w, r.output)


def test_cli_float32_overflow_names_the_file_and_key(invoke, tmp_path):
    p = _write(tmp_path, "stiff.toml", '[structure]\nbuilder = "chain2d"\nstiffness = 1e30\n')
    r = invoke("relax", p, "--dtype", "float32", "--json")
    assert r.exit_code == 2, r.output
    assert "stiff.toml:3: structure.stiffness:" in r.output and "float32" in r.output, r.output
