"""Several processes, one sweep: JAX's distributed runtime, nothing home-made.

:func:`initialize` calls :func:`jax.distributed.initialize` with the
coordinator address, process count and process id taken, in this order, from

1. explicit arguments (the CLI's ``--coordinator``, ``--num-processes``,
   ``--process-id``);
2. the environment of common launchers: ``JAX_COORDINATOR_ADDRESS``,
   ``JAX_NUM_PROCESSES``/``JAX_PROCESS_ID``, Open MPI's
   ``OMPI_COMM_WORLD_SIZE``/``OMPI_COMM_WORLD_RANK``, MPICH/Intel MPI's
   ``PMI_SIZE``/``PMI_RANK``, Slurm's ``SLURM_NTASKS``/``SLURM_PROCID``;
3. JAX's own cluster detection (Slurm, Open MPI, mpi4py, Kubernetes, TPU pods),
   which also finds the coordinator of a Slurm job from ``SLURM_STEP_NODELIST``.

On CPU the cross-process collectives use gloo
(``jax_cpu_collectives_implementation``, the default since JAX 0.5; set here
explicitly). Results travel between processes with
:func:`jax.experimental.multihost_utils.process_allgather` and
:func:`~jax.experimental.multihost_utils.broadcast_one_to_all`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import jax
import numpy as np
from jax.experimental import multihost_utils

from catenax.solve import check_int

from .rendezvous import rendezvous

__all__ = ["Cluster", "cluster_settings", "initialize", "local_cluster"]


@dataclass(frozen=True)
class Cluster:
    """Where this process stands among the processes of a sweep.

    Attributes:
        process_id: this process's index (0 writes the output).
        num_processes: how many processes share the sweep.
    """

    process_id: int = 0
    num_processes: int = 1

    @property
    def is_writer(self) -> bool:
        """True on the process that writes files (process 0)."""
        return self.process_id == 0

    def allgather(self, tree):
        """Stack a pytree of host arrays from every process along a new leading axis.

        Args:
            tree: numpy arrays of the same shapes on every process.

        Returns:
            The same pytree with each leaf of shape ``(num_processes, *shape)``
            (process ``p``'s data at index ``p``).

        Example:
            >>> import numpy as np
            >>> Cluster().allgather({"a": np.arange(3)})["a"].shape
            (1, 3)
        """
        if self.num_processes == 1:
            return jax.tree.map(lambda a: np.asarray(a)[None], tree)
        return multihost_utils.process_allgather(tree, tiled=False)

    def broadcast(self, tree):
        """Process 0's value of a pytree of host arrays, on every process.

        Args:
            tree: numpy arrays of the same shapes on every process.

        Returns:
            Process 0's ``tree``.

        Example:
            >>> Cluster().broadcast({"n": 3})
            {'n': 3}
        """
        if self.num_processes == 1:
            return tree
        return multihost_utils.broadcast_one_to_all(tree)


def local_cluster() -> Cluster:
    """The cluster of the current JAX runtime (one process unless initialised).

    Returns:
        A :class:`Cluster` with JAX's process index and count.

    Example:
        >>> local_cluster().num_processes >= 1
        True
    """
    return Cluster(jax.process_index(), jax.process_count())


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: environment variable is {value!r}, not an integer") from None


def cluster_settings(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    env: Mapping[str, str] | None = None,
) -> dict:
    """The arguments for :func:`jax.distributed.initialize`, from options and environment.

    Explicit values win; missing ones come from the launcher's environment
    (see the module docstring); whatever is still missing is left ``None``
    for JAX's own cluster detection.

    Args:
        coordinator: ``host:port`` of process 0's coordinator service.
        num_processes: the number of processes.
        process_id: this process's index in ``[0, num_processes)``.
        env: the environment to read (default ``os.environ``).

    Returns:
        ``{"coordinator_address": ..., "num_processes": ..., "process_id": ...}``.

    Raises:
        ValueError: a malformed coordinator address, a count below 1, or an id
            outside ``[0, num_processes)``; the message names the option.

    Example:
        >>> cluster_settings(env={"OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "2",
        ...                       "JAX_COORDINATOR_ADDRESS": "node1:1234"})
        {'coordinator_address': 'node1:1234', 'num_processes': 4, 'process_id': 2}
    """
    env = os.environ if env is None else env
    if coordinator is None:
        coordinator = env.get("JAX_COORDINATOR_ADDRESS") or None
    for size_var, rank_var in (
        ("JAX_NUM_PROCESSES", "JAX_PROCESS_ID"),
        ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),
        ("PMI_SIZE", "PMI_RANK"),
        ("SLURM_NTASKS", "SLURM_PROCID"),
    ):
        size, rank = _env_int(env, size_var), _env_int(env, rank_var)
        if size is not None and rank is not None:
            if num_processes is None:
                num_processes = size
            if process_id is None:
                process_id = rank
            break
    if coordinator is not None:
        host, sep, port = coordinator.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"coordinator: '{coordinator}' is not host:port; use e.g. node001:12355 "
                f"(process 0's host and a free port)"
            )
    if num_processes is not None:
        num_processes = check_int("num_processes", num_processes, minimum=1, maximum=2**20)
    if process_id is not None:
        process_id = check_int("process_id", process_id, minimum=0)
    if num_processes is not None and process_id is not None and process_id >= num_processes:
        raise ValueError(
            f"process_id: {process_id} must be < num_processes ({num_processes}); ids run "
            f"from 0 to {num_processes - 1}"
        )
    return {
        "coordinator_address": coordinator,
        "num_processes": num_processes,
        "process_id": process_id,
    }


def initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    timeout: float = 60,
    settings: Mapping | None = None,
) -> Cluster:
    """Start JAX's distributed runtime for a multi-process sweep (call before any JAX work).

    When the coordinator, the count and the id are known, the processes first
    meet at the coordinator's address (:func:`~catenax.sweeps.rendezvous.rendezvous`):
    each id from 0 to ``num_processes - 1`` exactly once, the same ``settings``
    everywhere, everyone there within ``timeout`` — or every process stops
    with a :class:`ValueError` instead of JAX's native abort.

    Args:
        coordinator: ``host:port`` of process 0 (see :func:`cluster_settings`).
        num_processes: the number of processes.
        process_id: this process's index.
        timeout: seconds to wait for all processes to join.
        settings: ``{name: JSON value}`` every process must share (the
            sweep's options), compared at the meeting.

    Returns:
        The :class:`Cluster` this process belongs to.

    Raises:
        ValueError: bad settings, a missing, repeated or late process, settings
            that differ between processes, or JAX cannot work them out from the
            environment (the message lists the options to give).

    Example:
        >>> initialize(coordinator="127.0.0.1:12355", num_processes=2,
        ...            process_id=0)  # doctest: +SKIP
        Cluster(process_id=0, num_processes=2)
    """
    kwargs = cluster_settings(coordinator, num_processes, process_id)
    if kwargs["num_processes"] == 1:
        return Cluster(0, 1)
    if not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0):
        raise ValueError(f"coordinator_timeout: {timeout!r} must be a number of seconds > 0")
    if None not in kwargs.values():
        rendezvous(
            kwargs["coordinator_address"], kwargs["num_processes"], kwargs["process_id"],
            dict(settings or {}), timeout,
        )  # fmt: skip
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except Exception:  # noqa: BLE001 - older or newer JAX without the option: keep its default
        pass
    try:
        jax.distributed.initialize(**kwargs, initialization_timeout=max(1, int(timeout)))
    except (ValueError, TypeError, RuntimeError) as e:
        raise ValueError(
            f"distributed: cannot start JAX's distributed runtime ({e}); give --coordinator "
            f"HOST:PORT, --num-processes N and --process-id I, or launch with srun/mpirun"
        ) from None
    return Cluster(jax.process_index(), jax.process_count())
