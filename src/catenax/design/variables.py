"""Design variables: which values vary, their reparametrisation, and the network they make.

A design variable is a scenario key given per spring or per node
(:data:`VARIABLES`), restricted to a subset of its springs/nodes by
``"name:SUBSET"``: a comma-separated list of indices and inclusive ranges,
e.g. ``"rest_length:0-40"`` (springs 0 to 40, both included) or
``"loads:3,5,7-9"``. Member variables follow the scenario's own keys: a
scenario that gives ``ea`` varies ``ea`` (not ``stiffness``); one that gives
``prestress`` or ``force_density`` varies that key (not ``rest_length``).

The optimiser never sees the values themselves but unconstrained numbers
``u`` (:meth:`Variable.value`): ``v = lo + s softplus(u)`` above a lower
bound (rest lengths, stiffnesses, EA, masses, and the prestress or force
density of cables are >= 0), ``hi - s softplus(u)`` below an upper one,
``lo + (hi - lo) sigmoid(u)`` between two, ``s u`` without bounds; ``s`` is
the variable's scale (the mean of its starting magnitudes). :func:`build_network`
turns the values into a :class:`~catenax.Network` with the one set of
formulas of :mod:`catenax.model.members` (``k = EA/l``, the rest length of a
prestress at the initial geometry, ``T0 = q L``, lumped line mass), traced
inside the differentiated loss.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from catenax.model import (
    Network,
    lumped_line_mass,
    prestress_from_force_density,
    rest_length_from_prestress,
    stiffness_from_ea,
)

__all__ = [
    "VARIABLES",
    "DesignModel",
    "Variable",
    "build_network",
    "design_model",
    "parse_subset",
    "parse_vary",
]

#: Variable name -> what it is given per (``"spring"`` or ``"node"``) and whether it is >= 0.
VARIABLES = {
    "rest_length": ("spring", True),
    "stiffness": ("spring", True),
    "ea": ("spring", True),
    "prestress": ("spring", False),
    "force_density": ("spring", False),
    "mass": ("node", True),
    "loads": ("node", False),
}

_LENGTH_KEYS = ("rest_length", "prestress", "force_density")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclasses.dataclass(frozen=True)
class DesignModel:
    """What a design varies around: the start network and the scenario's member keys.

    Attributes:
        network: the scenario's network (the start of the design).
        length_key: ``"rest_length"``, ``"prestress"`` or ``"force_density"``.
        axial_key: ``"stiffness"`` or ``"ea"``.
        base: start values per key of :data:`VARIABLES` that the scenario uses
            (numpy arrays, per spring or node; ``loads`` is ``(n, d)``).
        line_mass: mass per unit rest length per spring, or ``None``.
        lengths: spring lengths at the initial geometry (prestress and force density).
    """

    network: Network
    length_key: str
    axial_key: str
    base: dict
    line_mass: Any
    lengths: Any

    @property
    def names(self) -> tuple[str, ...]:
        """The variables this scenario can vary."""
        return (self.length_key, self.axial_key, "mass", "loads")


def _per(value, count) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (count,)).copy()


def design_model(net: Network, structure: dict | None = None) -> DesignModel:
    """The design model of a network and its ``[structure]`` table (keys already checked).

    Args:
        net: the scenario's (validated) network.
        structure: the raw ``[structure]`` table, or ``None`` (a builder, or a
            network without a file): rest lengths and spring constants.

    Returns:
        A :class:`DesignModel`.

    Example:
        >>> import catenax
        >>> m = design_model(catenax.chain2d(3))
        >>> m.names, m.base["rest_length"].shape
        (('rest_length', 'stiffness', 'mass', 'loads'), (4,))
    """
    s = structure if structure is not None and "builder" not in structure else {}
    n, m = net.n_nodes, net.n_springs
    pos, springs = np.asarray(net.positions), np.asarray(net.springs)
    lengths = np.linalg.norm(pos[springs[:, 1]] - pos[springs[:, 0]], axis=1)
    rest, k = np.asarray(net.rest_length, float), np.asarray(net.stiffness, float)
    length_key = next((key for key in ("prestress", "force_density") if key in s), "rest_length")
    axial_key = "ea" if "ea" in s else "stiffness"
    base = {"rest_length": rest, "stiffness": k, "loads": np.asarray(net.loads, float)}
    if axial_key == "ea":
        base["ea"] = _per(s["ea"], m)
    if length_key != "rest_length":
        base[length_key] = _per(s[length_key], m)
    line_mass = _per(s["line_mass"], m) if "line_mass" in s else None
    own = np.asarray(net.mass, float)
    if line_mass is not None:
        own = _per(s.get("mass", 0.0), n)
    base["mass"] = own
    return DesignModel(net, length_key, axial_key, base, line_mass, lengths)


def build_network(model: DesignModel, values: dict) -> Network:
    """The network with some values replaced (traceable: ``values`` may be JAX tracers).

    Args:
        model: the :class:`DesignModel`.
        values: name -> full array of that variable (per spring or node).

    Returns:
        ``model.network.replace(rest_length=..., stiffness=..., mass=..., loads=...)``.

    Example:
        >>> import catenax
        >>> m = design_model(catenax.chain2d(1))
        >>> net = build_network(m, {"rest_length": jnp.array([0.7, 0.9])})
        >>> [round(float(x), 6) for x in net.rest_length]
        [0.7, 0.9]
    """
    get = lambda key: values[key] if key in values else jnp.asarray(model.base[key])  # noqa: E731
    net = model.network
    axial = get(model.axial_key)
    ea = axial if model.axial_key == "ea" else None
    if model.length_key == "rest_length":
        rest = get("rest_length")
    else:
        t0 = get(model.length_key)
        if model.length_key == "force_density":
            t0 = prestress_from_force_density(t0, model.lengths)
        kwargs = {"ea": ea} if ea is not None else {"stiffness": axial}
        rest = rest_length_from_prestress(model.lengths, t0, **kwargs)
    k = stiffness_from_ea(ea, rest) if ea is not None else axial
    mass = get("mass")
    if model.line_mass is not None:
        mass = mass + lumped_line_mass(net.springs, rest, model.line_mass, net.n_nodes)
    return net.replace(rest_length=rest, stiffness=k, mass=mass, loads=get("loads"))


def parse_subset(text: str, count: int, noun: str, where: str) -> np.ndarray:
    """Indices from ``"0-40"``, ``"3,5,7"`` or ``"0-4,9"`` (ranges inclusive), sorted, unique.

    Args:
        text: the subset.
        count: how many springs/nodes there are (indices run 0..count-1).
        noun: ``"spring"`` or ``"node"`` (for messages).
        where: what to name in messages, e.g. ``"--vary rest_length:0-40"``.

    Returns:
        The indices, an int array.

    Raises:
        ValueError: not a list of indices and ranges, or an index out of range.

    Example:
        >>> parse_subset("0-3,7", 10, "spring", "vary").tolist()
        [0, 1, 2, 3, 7]
    """
    out: set[int] = set()
    for item in text.split(","):
        m = _RANGE.match(item)
        if m is None:
            raise ValueError(
                f"{where}: {item.strip()!r} is not a {noun} index or a range; give indices and "
                f"inclusive ranges such as 0-40 or 3,5,7"
            )
        lo, hi = int(m.group(1)), int(m.group(2) if m.group(2) is not None else m.group(1))
        if lo > hi:
            raise ValueError(f"{where}: the range {lo}-{hi} is empty; write it as {hi}-{lo}")
        if hi >= count:
            raise ValueError(
                f"{where}: {noun} index {hi} is out of range; {noun}s run from 0 to {count - 1}"
            )
        out.update(range(lo, hi + 1))
    return np.array(sorted(out), dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class Variable:
    """One varied key on a subset: its start, bounds and scale (arrays per chosen element).

    Attributes:
        name: a key of :data:`VARIABLES`.
        index: the springs/nodes it varies (sorted).
        start: the start values, shape ``(k,)`` (``(k, d)`` for loads).
        lo: lower bounds (``-inf``: none), the shape of ``start``.
        hi: upper bounds (``inf``: none).
        scale: the typical magnitude ``s`` (> 0).
    """

    name: str
    index: np.ndarray
    start: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    scale: float

    def value(self, u):
        """The values of the unconstrained numbers ``u`` (traceable).

        Example:
            >>> v = Variable("mass", np.array([0]), np.array([2.0]), np.array([0.0]),
            ...              np.array([np.inf]), 2.0)
            >>> [round(float(x), 6) for x in v.value(v.initial())]
            [2.0]
        """
        lo, hi = jnp.asarray(self.lo), jnp.asarray(self.hi)
        has_lo, has_hi = jnp.isfinite(lo), jnp.isfinite(hi)
        lo0, hi0 = jnp.where(has_lo, lo, 0.0), jnp.where(has_hi, hi, 0.0)
        s = self.scale
        both = lo0 + (hi0 - lo0) * jax.nn.sigmoid(u)
        above, below = lo0 + s * jax.nn.softplus(u), hi0 - s * jax.nn.softplus(u)
        one = jnp.where(has_lo, above, jnp.where(has_hi, below, s * u))
        return jnp.where(has_lo & has_hi, both, one)

    def initial(self) -> np.ndarray:
        """The ``u`` of the start values (a start on a bound moves 0.1 % of the scale inside)."""
        lo, hi, s = self.lo, self.hi, self.scale
        v = self.start
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            gap = np.where(np.isfinite(hi - lo), 1e-3 * (hi - lo), 1e-3 * s)
            v = np.clip(v, np.where(np.isfinite(lo), lo + gap, -np.inf),
                        np.where(np.isfinite(hi), hi - gap, np.inf))  # fmt: skip
            frac = (v - lo) / (hi - lo)
            both = np.log(frac) - np.log1p(-frac)
            above = _softplus_inv((v - lo) / s)
            below = _softplus_inv((hi - v) / s)
        one = np.where(np.isfinite(lo), above, np.where(np.isfinite(hi), below, v / s))
        return np.where(np.isfinite(lo) & np.isfinite(hi), both, one)


def _softplus_inv(y):
    y = np.maximum(y, 1e-300)
    return np.where(y > 30, y, np.log(np.expm1(np.minimum(y, 30))))


def _bounds(name: str, model: DesignModel, index, shape, bounds):
    """Lower and upper bounds per element: the user's, else >= 0 for positive kinds."""
    positive = VARIABLES[name][1]
    lo = np.full(shape, 0.0 if positive else -np.inf)
    if name in ("prestress", "force_density"):  # cables stay in tension
        cable = np.asarray(model.network.tension_only, bool)[index]
        lo[cable] = 0.0
    hi = np.full(shape, np.inf)
    user = (bounds or {}).get(name)
    if user is not None:
        low, high = user
        if low is not None:
            lo = np.maximum(lo, float(low))
        if high is not None:
            hi = np.full(shape, float(high))
        if np.any(lo >= hi):
            raise ValueError(
                f"bounds[{name!r}]: the lower bound is not below the upper one; give (lo, hi) "
                f"with lo < hi (and hi > 0 for a positive variable)"
            )
    return lo, hi


def parse_vary(specs, model: DesignModel, bounds: dict | None = None) -> list[Variable]:
    """The variables of ``vary`` entries ``"name"`` or ``"name:SUBSET"``.

    Args:
        specs: the entries (a string or a sequence of strings).
        model: the :class:`DesignModel` (which keys the scenario uses).
        bounds: optional ``{name: (lo, hi)}`` (``None`` for an open side).

    Returns:
        One :class:`Variable` per entry.

    Raises:
        ValueError: an unknown name, a key the scenario does not use (the
            message names the one to vary instead), a name given twice, a bad
            subset, or bad bounds.

    Example:
        >>> import catenax
        >>> m = design_model(catenax.chain2d(3))
        >>> [(v.name, v.index.tolist()) for v in parse_vary(["rest_length:1-2", "mass"], m)][0]
        ('rest_length', [1, 2])
    """
    specs = [specs] if isinstance(specs, str) else list(specs)
    if not specs:
        raise ValueError("vary: nothing to vary; give e.g. vary=['rest_length']")
    out, seen = [], set()
    for spec in specs:
        name, _, subset = str(spec).partition(":")
        name = name.strip()
        where = f"vary {spec!r}"
        _check_name(name, model, where)
        if name in seen:
            raise ValueError(f"{where}: {name} is given twice; give each variable once")
        seen.add(name)
        noun = VARIABLES[name][0]
        count = model.network.n_springs if noun == "spring" else model.network.n_nodes
        index = parse_subset(subset, count, noun, where) if subset.strip() else np.arange(count)
        start = np.asarray(model.base[name])[index]
        lo, hi = _bounds(name, model, index, start.shape, bounds)
        out.append(Variable(name, index, start, lo, hi, _scale(name, start, model)))
    unknown = sorted(set(bounds or {}) - seen)
    if unknown:
        raise ValueError(f"bounds: {unknown[0]!r} is not varied; give bounds of varied keys only")
    return out


def _check_name(name: str, model: DesignModel, where: str) -> None:
    if name not in VARIABLES:
        raise ValueError(
            f"{where}: unknown variable {name!r}; choose from {', '.join(VARIABLES)} "
            f"(optionally name:SUBSET, e.g. rest_length:0-40)"
        )
    if name in model.names:
        return
    used = model.length_key if name in _LENGTH_KEYS else model.axial_key
    raise ValueError(
        f"{where}: the scenario gives {used}, not {name}; vary {used} instead (or give "
        f"{name} in the scenario's [structure] table)"
    )


def _scale(name: str, start: np.ndarray, model: DesignModel) -> float:
    """The typical magnitude of a variable: its mean start magnitude (else a natural unit)."""
    mag = float(np.mean(np.abs(start))) if start.size else 0.0
    if mag > 0 and np.isfinite(mag):
        return mag
    if name == "loads":
        net = model.network
        weight = float(np.mean(np.asarray(net.mass))) * float(np.linalg.norm(net.gravity))
        return weight if weight > 0 else 1.0
    return 1.0
