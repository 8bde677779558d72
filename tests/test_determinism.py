"""Same seed, same bits: from run to run, for every thread count, and for every
SIMD GEMM kernel."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import pynn


def train(seed, threads, dtype=np.float32, steps=30, sizes=(300, 512, 256, 10), batch=64,
          opt=None, loss="mse"):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, sizes[0])).astype(dtype)
    T = rng.integers(0, sizes[-1], batch) if loss == "cross_entropy" else rng.normal(size=(batch, sizes[-1]))
    net = pynn.MLP(list(sizes), activation="relu", loss=loss, dtype=dtype, seed=seed)
    opt = opt or pynn.SGD(lr=0.01, momentum=0.9)
    losses = []
    with pynn.num_threads(threads):
        for _ in range(steps):
            losses.append(net.train_step(X, T, opt))
        Y = net.forward(X)
        _, g = net.gradients(X, T)
    return net.params.copy(), np.array(losses), Y, g.params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_and_two_threads_give_identical_bits(dtype):
    p1, l1, y1, g1 = train(0, 1, dtype, steps=10)
    p2, l2, y2, g2 = train(0, 2, dtype, steps=10)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(g1, g2)


def test_run_to_run_identical_bits():
    a = train(1, 2, steps=5, sizes=(37, 65, 3), batch=33, opt=pynn.Adam(lr=1e-2), loss="cross_entropy")
    b = train(1, 2, steps=5, sizes=(37, 65, 3), batch=33, opt=pynn.Adam(lr=1e-2), loss="cross_entropy")
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("make_opt", [lambda: pynn.SGD(lr=0.01, momentum=0.9),
                                      lambda: pynn.SGD(lr=0.01, weight_decay=0.1)],
                         ids=["momentum", "plain_sgd_fused"])
@pytest.mark.parametrize("batch", [1, 7, 200, 600])   # 600: several depth panels of dW
def test_thread_count_does_not_change_bits_for_odd_shapes(batch, make_opt):
    outs = [train(2, t, steps=3, sizes=(13, 129, 1), batch=batch, opt=make_opt())
            for t in (1, 2, 3)]
    for o in outs[1:]:
        for x, y in zip(outs[0], o):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("make_opt", [lambda: pynn.SGD(lr=0.01, momentum=0.9),
                                      lambda: pynn.SGD(lr=0.01)], ids=["momentum", "plain_sgd_fused"])
def test_a_deep_network_gives_the_same_bits_on_every_team(make_opt):
    # 40 layers: a step starts more loops between two barriers (one per layer in
    # the finiteness scan and in the bias updates) than a team has loop counters
    # (PYNN_TEAM_SLOTS in csrc/threads.h), so the team also syncs in between.
    sizes, batch = [24] + [64] * 40 + [3], 96
    rng = np.random.default_rng(5)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    T = rng.normal(size=(batch, sizes[-1])).astype(np.float32)
    outs = []
    for threads in (1, 2, 3):
        net = pynn.MLP(sizes, activation="tanh", seed=4)
        net.adaptive_threads = False
        opt = make_opt()
        with pynn.num_threads(threads):
            losses = [net.train_step(X, T, opt) for _ in range(3)]
            outs.append((net.params.copy(), np.array(losses), net.forward(X),
                         net.gradients(X, T)[1].params))
            assert net.last_threads == threads
    for o in outs[1:]:
        for x, y in zip(outs[0], o):
            np.testing.assert_array_equal(x, y)


def test_same_seed_same_network():
    a = pynn.MLP([20, 30, 5], seed=123)
    b = pynn.MLP([20, 30, 5], seed=123)
    np.testing.assert_array_equal(a.params, b.params)
    # known bits: the Philox stream is part of the contract (machine-independent)
    assert pynn.MLP([1, 1], activation="relu", output="relu", seed=0).params[0] == pytest.approx(
        pynn.MLP([1, 1], activation="relu", output="relu", seed=0, dtype=np.float64).params[0], rel=1e-7)


SIMD_DIGEST = """
import hashlib, numpy as np, pynn
from pynn import _core
h = hashlib.sha256()
rng = np.random.default_rng(3)
for dtype in (np.float32, np.float64):
    for m, n, k, ta, tb in ((97, 45, 600, 0, 0), (33, 300, 257, 1, 0), (130, 70, 19, 0, 1),
                            (70, 13, 300, 1, 0), (40, 5, 33, 1, 0), (50, 600, 9, 0, 0),
                            (97, 600, 600, 0, 0), (13, 545, 1000, 1, 0), (40, 577, 300, 0, 1),
                            (70, 8, 300, 0, 0), (45, 1, 33, 0, 0)):   # few columns, A row-major
        A = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(dtype)
        B = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dtype)
        C = rng.uniform(-1, 1, (m, n)).astype(dtype)
        _core.gemm(bool(ta), bool(tb), A, B, C, 1.5, 0.5, 2)
        h.update(C.tobytes())
    for act in ("relu", "leaky_relu", "tanh"):
        X = rng.normal(size=(37, 300)).astype(dtype)
        T = rng.normal(size=(37, 3)).astype(dtype)
        net = pynn.MLP([300, 129, 40, 3], activation=act, dtype=dtype, seed=5)
        opt = pynn.Adam(lr=1e-3)
        for _ in range(4):
            h.update(np.float64(net.train_step(X, T, opt)).tobytes())
        h.update(net.params.tobytes())
        h.update(net.forward(X).tobytes())
print(_core.kernel_name(), h.hexdigest())
"""


def test_simd_kernels_give_identical_bits():
    """The SIMD kernel sets (AVX2, AVX-512 8x32 and 6x64) share KC and the order of
    every element's FMA chain, so products and whole training runs agree bit for bit (each
    kernel forced through PYNN_KERNEL in a fresh process)."""
    simd = [k for k in pynn._core.kernel_list() if k != "generic"]
    if len(simd) < 2:
        pytest.skip(f"one SIMD kernel on this CPU ({simd})")
    out = {}
    for kernel in simd:
        r = subprocess.run([sys.executable, "-c", SIMD_DIGEST], capture_output=True, text=True,
                           env=dict(os.environ, PYNN_KERNEL=kernel), timeout=120,
                           cwd=tempfile.gettempdir())
        assert r.returncode == 0, r.stderr
        name, digest = r.stdout.split()
        assert name == kernel
        out[kernel] = digest
    assert len(set(out.values())) == 1, out
