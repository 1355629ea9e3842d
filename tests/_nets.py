"""The benchmark net of issue 10, shared by the network tests."""

import numpy as np

import catenax


def grid_net(m, rest=0.9, k=50.0, weight=0.2):
    """m x m nodes at (i, j, 0), 4-neighbour springs, boundary fixed, weight along -z."""
    idx = np.arange(m * m).reshape(m, m)
    ii, jj = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    pos = np.stack([ii.ravel(), jj.ravel(), np.zeros(m * m)], 1).astype(float)
    springs = np.concatenate(
        [
            np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
            np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], 1),
        ]
    )
    edge = np.zeros((m, m), bool)
    edge[0] = edge[-1] = edge[:, 0] = edge[:, -1] = True
    return catenax.from_arrays(pos, springs, rest_length=rest, stiffness=k, mass=weight,
                               gravity=1.0, fixed=np.flatnonzero(edge.ravel()))  # fmt: skip
