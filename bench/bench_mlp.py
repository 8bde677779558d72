"""pytest-benchmark: forward (inference) and train_step (forward + MSE +
backprop + SGD update) at a few network sizes, at 1 thread and at all threads.
Run: pytest bench/bench_mlp.py --benchmark-only --benchmark-group-by=param:config"""
import numpy as np
import pytest

import pynn

CONFIGS = {
    "tiny": (32, [32, 64, 64, 1]),
    "small": (64, [784, 128, 10]),
    "mnist": (128, [784, 256, 128, 10]),
    "medium": (256, [1024, 1024, 1024, 10]),
}
THREADS = sorted({1, pynn.get_num_threads()})


def setup(config):
    batch, sizes = CONFIGS[config]
    rng = np.random.default_rng(0)
    net = pynn.MLP(sizes, activation="relu", dtype=np.float32, seed=0)
    net.adaptive_threads = False          # measure the thread count asked for
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    T = rng.normal(size=(batch, sizes[-1])).astype(np.float32)
    return net, X, T


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("config", list(CONFIGS))
def bench_train_step(benchmark, config, threads):
    net, X, T = setup(config)
    opt = pynn.SGD(lr=1e-3)
    benchmark.group = f"train_step {config}"
    benchmark.extra_info["samples"] = X.shape[0]
    with pynn.num_threads(threads):
        loss = benchmark(net.train_step, X, T, opt)
    assert np.isfinite(loss)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("config", list(CONFIGS))
def bench_forward(benchmark, config, threads):
    net, X, _ = setup(config)
    out = np.empty((X.shape[0], net.n_outputs), np.float32)
    benchmark.group = f"forward {config}"
    benchmark.extra_info["samples"] = X.shape[0]
    with pynn.num_threads(threads):
        benchmark(net.forward, X, out)
    assert np.isfinite(out).all()
