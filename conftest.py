"""Settings for every test and doctest (``tests/`` and the ``>>>`` examples in ``src/``).

float64 on and no silent rank promotion, as in the CLI; figures drawn off-screen
(``MPLBACKEND=Agg``, set before matplotlib loads) so that no test needs a display.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
