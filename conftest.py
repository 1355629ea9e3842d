"""Settings for every test and doctest (``tests/`` and the ``>>>`` examples in ``src/``).

float64 on and no silent rank promotion, as in the CLI; figures drawn off-screen
(``MPLBACKEND=Agg``, set before matplotlib loads) so that no test needs a display.
"""

import gc
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import pytest  # noqa: E402

from catenax.limits import set_memory_limit  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each module.

    The suite compiles thousands of programs in one process; kept to the end, their
    code mappings exhaust the kernel's per-process map limit (vm.max_map_count) and
    XLA's compiler crashes late in the run. A module's tests still share theirs.
    """
    yield
    jax.clear_caches()
    gc.collect()


@pytest.fixture(autouse=True)
def _default_memory_limit():
    """Each test starts at the default memory limit: an in-process CLI run with
    ``--max-memory`` sets it for the rest of its process, as a command should."""
    set_memory_limit(None)
    yield
    set_memory_limit(None)
