"""Shared fixtures: tolerances per dtype, random networks and data."""
import numpy as np
import pytest

import pynn

# rtol/atol per dtype for values of order 1 after a few products
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}

HIDDEN_ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


@pytest.fixture(autouse=True)
def _restore_threads():
    yield
    pynn.set_num_threads(None)


def random_net(rng, sizes, dtype, activation="tanh", output="identity", loss="mse", seed=0):
    net = pynn.MLP(sizes, activation=activation, output=output, loss=loss, dtype=dtype, seed=seed)
    # non-zero biases so the bias path is exercised
    for b in net.biases:
        b[...] = rng.uniform(-0.5, 0.5, b.shape)
    return net


def targets(rng, net, batch):
    if net.loss_name == "cross_entropy":
        return rng.integers(0, net.n_outputs, batch)
    return rng.normal(size=(batch, net.n_outputs))
