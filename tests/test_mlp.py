"""The network against the NumPy reference: forward, both losses, gradients and
one optimizer step of each kind, over random architectures, batch sizes,
activations and both dtypes."""
import numpy as np
import pytest

import pynn
import numpy_ref as ref
from conftest import HIDDEN_ACTS, random_net, targets

RTOL = {np.float32: 3e-4, np.float64: 1e-9}


def assert_close(got, want, dtype, what=""):
    """|got - want| <= rtol |want| + rtol * max|want| (elementwise, per dtype)."""
    want = np.asarray(want, np.float64)
    scale = max(float(np.abs(want).max()) if want.size else 0.0, 1e-30)
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=RTOL[dtype] * scale, err_msg=what)


def random_case(seed, dtype):
    """A random architecture, activations, loss, batch and data."""
    rng = np.random.default_rng(seed)
    n_layers = int(rng.integers(1, 5))
    sizes = [int(s) for s in rng.integers(1, 40, n_layers + 1)]
    loss = "cross_entropy" if rng.random() < 0.3 else "mse"
    if loss == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
        output = "softmax"
    else:
        output = str(rng.choice(["identity", "sigmoid", "tanh", "softmax", "relu"]))
    hidden = [str(a) for a in rng.choice(HIDDEN_ACTS, n_layers - 1)]
    net = random_net(rng, sizes, dtype, activation=hidden, output=output, loss=loss, seed=seed)
    batch = int(rng.choice([1, 2, 7, 33, 64]))
    X = rng.normal(size=(batch, sizes[0]))
    T = targets(rng, net, batch)
    T_ref = ref.one_hot(T, sizes[-1]) if loss == "cross_entropy" else T
    return net, X, T, T_ref


def net_params64(net):
    return [w.astype(np.float64) for w in net.weights], [b.astype(np.float64) for b in net.biases]


@pytest.mark.parametrize("seed", range(40))
def test_forward_loss_gradients_match_reference(seed, dtype):
    net, X, T, T_ref = random_case(seed, dtype)
    Ws, bs = net_params64(net)
    Xc = X.astype(dtype).astype(np.float64)          # the reference sees what the net sees
    A, Z = ref.forward(Ws, bs, net.activations, Xc, net.leaky_slope)
    assert_close(net.forward(X), A[-1], dtype, "forward")

    L_ref, dW_ref, db_ref = ref.loss_and_grads(Ws, bs, net.activations, net.loss_name, Xc, T_ref,
                                               net.leaky_slope)
    assert net.loss(X, T) == pytest.approx(L_ref, rel=RTOL[dtype], abs=RTOL[dtype] * 1e-3)
    L, g = net.gradients(X, T)
    assert L == pytest.approx(L_ref, rel=RTOL[dtype], abs=RTOL[dtype] * 1e-3)
    for l in range(net.n_layers):
        assert_close(g.weights[l], dW_ref[l], dtype, f"dW[{l}]")
        assert_close(g.biases[l], db_ref[l], dtype, f"db[{l}]")
    assert g.params.dtype == dtype and g.params.shape == net.params.shape


def reference_update(opt, Ws, bs, dWs, dbs, state, t):
    """Applies the reference optimizer to every layer; weight decay on weights only."""
    new_W, new_b = [], []
    for l, (W, b, dW, db) in enumerate(zip(Ws, bs, dWs, dbs)):
        for p, g, wd, out, k in ((W, dW, opt.weight_decay, new_W, 2 * l), (b, db, 0.0, new_b, 2 * l + 1)):
            if isinstance(opt, pynn.SGD):
                v = state.get(k, np.zeros_like(p))
                p, v = ref.sgd_step(p, g, v, opt.lr, opt.momentum, opt.nesterov, wd)
                state[k] = v
            else:
                m, v = state.get(k, (np.zeros_like(p), np.zeros_like(p)))
                p, m, v = ref.adam_step(p, g, m, v, t, opt.lr, *opt.betas, opt.eps, wd,
                                        opt.decoupled_weight_decay)
                state[k] = (m, v)
            out.append(p)
    return new_W, new_b


OPTIMIZERS = {
    "sgd": lambda: pynn.SGD(lr=0.1),
    "sgd_wd": lambda: pynn.SGD(lr=0.05, weight_decay=0.1),
    "momentum": lambda: pynn.SGD(lr=0.05, momentum=0.9),
    "nesterov": lambda: pynn.SGD(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    "adam": lambda: pynn.Adam(lr=0.01),
    "adam_l2": lambda: pynn.Adam(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05),
    "adamw": lambda: pynn.Adam(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_train_steps_match_reference(name, seed, dtype):
    net, X, T, T_ref = random_case(100 + seed, dtype)
    opt = OPTIMIZERS[name]()
    Ws, bs = net_params64(net)
    state = {}
    Xc = X.astype(dtype).astype(np.float64)
    for t in range(1, 4):
        L_ref, dWs, dbs = ref.loss_and_grads(Ws, bs, net.activations, net.loss_name, Xc, T_ref,
                                             net.leaky_slope)
        L = net.train_step(X, T, opt)
        assert L == pytest.approx(L_ref, rel=10 * RTOL[dtype], abs=RTOL[dtype] * 1e-3)
        Ws, bs = reference_update(opt, Ws, bs, dWs, dbs, state, t)
        for l in range(net.n_layers):
            assert_close(net.weights[l], Ws[l], dtype, f"step {t} W[{l}]")
            assert_close(net.biases[l], bs[l], dtype, f"step {t} b[{l}]")
        # continue from the network's own (rounded) parameters, as the C code does
        Ws, bs = net_params64(net)
    assert opt.state(net).step == 3


CHANGES = {   # settings changed between steps: the next step must use them (Optimizer._hot)
    "sgd": [("lr", 0.02), ("weight_decay", 0.2), ("lr", 0.3)],
    "momentum": [("momentum", 0.5), ("nesterov", True), ("weight_decay", 0.05)],
    "adam": [("eps", 1e-3), ("betas", (0.5, 0.9)), ("decoupled_weight_decay", True),
             ("weight_decay", 0.1)],
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_settings_changed_between_steps_apply_from_the_next_step(name, dtype):
    net, X, T, T_ref = random_case(7, dtype)
    opt = OPTIMIZERS[name]()
    Ws, bs = net_params64(net)
    state = {}
    Xc = X.astype(dtype).astype(np.float64)
    for t, (attr, value) in enumerate([(None, None)] + CHANGES[name], start=1):
        if attr is not None:
            setattr(opt, attr, value)
        _, dWs, dbs = ref.loss_and_grads(Ws, bs, net.activations, net.loss_name, Xc, T_ref,
                                         net.leaky_slope)
        net.train_step(X, T, opt)
        Ws, bs = reference_update(opt, Ws, bs, dWs, dbs, state, t)
        for l in range(net.n_layers):
            assert_close(net.weights[l], Ws[l], dtype, f"step {t} ({attr}) W[{l}]")
            assert_close(net.biases[l], bs[l], dtype, f"step {t} ({attr}) b[{l}]")
        Ws, bs = net_params64(net)


def test_momentum_switched_on_between_steps_starts_from_zero_velocity():
    """momentum 0 -> 0.9 between steps (the state's length changes under
    Optimizer._hot): the next step starts a zero velocity, as a fresh
    SGD(momentum=0.9) would."""
    rng = np.random.default_rng(4)
    X, T = rng.normal(size=(9, 5)).astype(np.float32), rng.normal(size=(9, 3)).astype(np.float32)
    a, b = (pynn.MLP([5, 4, 3], seed=0) for _ in range(2))
    opt = pynn.SGD(lr=0.1)
    a.train_step(X, T, opt)
    b.train_step(X, T, pynn.SGD(lr=0.1))
    opt.momentum = 0.9
    fresh = pynn.SGD(lr=0.1, momentum=0.9)
    for _ in range(2):
        assert a.train_step(X, T, opt) == b.train_step(X, T, fresh)
    np.testing.assert_array_equal(a.params, b.params)


@pytest.mark.parametrize("name", ["sgd", "sgd_wd", "momentum", "sgd_decay_past_one"])
def test_train_step_with_a_batch_deeper_than_a_gemm_panel(name, dtype):
    """Plain SGD adds -lr X^T dZ into W one depth panel (at most 256 rows of
    the batch) at a time; the result must still be the reference step."""
    rng = np.random.default_rng(7)
    net = random_net(rng, [23, 41, 3], dtype, activation="tanh", seed=7)
    X, T = rng.normal(size=(700, 23)), rng.normal(size=(700, 3))
    # lr * weight_decay >= 1: the decay factor 1 - lr wd is not a GEMM beta the fused update takes
    opt = pynn.SGD(lr=1.5, weight_decay=0.8) if name == "sgd_decay_past_one" else OPTIMIZERS[name]()
    Ws, bs = net_params64(net)
    _, dWs, dbs = ref.loss_and_grads(Ws, bs, net.activations, net.loss_name,
                                     X.astype(dtype).astype(np.float64), T, net.leaky_slope)
    net.train_step(X, T, opt)
    Ws, bs = reference_update(opt, Ws, bs, dWs, dbs, {}, 1)
    for l in range(net.n_layers):
        assert_close(net.weights[l], Ws[l], dtype, f"W[{l}]")
        assert_close(net.biases[l], bs[l], dtype, f"b[{l}]")


def test_cross_entropy_accepts_probabilities_and_labels(dtype):
    rng = np.random.default_rng(5)
    net = pynn.MLP([6, 9, 4], loss="cross_entropy", dtype=dtype, seed=1)
    X = rng.normal(size=(11, 6))
    labels = rng.integers(0, 4, 11)
    onehot = ref.one_hot(labels, 4)
    assert net.loss(X, labels) == pytest.approx(net.loss(X, onehot), rel=RTOL[dtype])
    _, g1 = net.gradients(X, labels)
    _, g2 = net.gradients(X, onehot)
    np.testing.assert_allclose(g1.params, g2.params, rtol=RTOL[dtype], atol=1e-7)
    soft = rng.dirichlet(np.ones(4), 11)              # soft targets
    Ws, bs = net_params64(net)
    L_ref, _, _ = ref.loss_and_grads(Ws, bs, net.activations, "cross_entropy",
                                     X.astype(dtype).astype(np.float64), soft)
    assert net.loss(X, soft) == pytest.approx(L_ref, rel=RTOL[dtype])
    P = net.forward(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=RTOL[dtype])


def test_cross_entropy_is_stable_for_huge_logits():
    net = pynn.MLP([2, 3], loss="cross_entropy", dtype=np.float64, seed=0)
    net.weights[0][...] = [[1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0]]
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    L = net.loss(X, np.array([1, 0]))
    assert L == pytest.approx(2000.0)              # -log P = 2000 for both rows
    L, g = net.gradients(X, np.array([0, 1]))
    assert np.isfinite(L) and np.all(np.isfinite(g.params))
    assert np.allclose(net.forward(X), [[1, 0, 0], [0, 1, 0]])


def test_views_share_the_flat_buffer(dtype):
    net = pynn.MLP([3, 5, 2], dtype=dtype, seed=0)
    assert net.params.dtype == dtype and net.params.flags.c_contiguous
    assert net.params.size == 3 * 5 + 5 + 5 * 2 + 2 == net.n_params
    for w, (n_in, n_out) in zip(net.weights, [(3, 5), (5, 2)]):
        assert w.shape == (n_in, n_out) and np.shares_memory(w, net.params)
    net.weights[1][0, 0] = 7.0
    net.biases[0][:] = 1.5
    flat = net.params
    assert flat[3 * 5 + 5] == 7.0 and np.all(flat[15:20] == 1.5)
    net.params[:] = 0
    assert not net.forward(np.ones((2, 3))).any()


def test_params_survive_the_network_object():
    net = pynn.MLP([2, 2], seed=0)
    p = net.params
    del net
    import gc
    gc.collect()
    assert p.sum() == p.sum()                      # the buffer is still alive and readable


def test_forward_out_and_empty_batch(dtype):
    net = pynn.MLP([4, 3, 2], dtype=dtype, seed=0)
    X = np.random.default_rng(0).normal(size=(5, 4))
    out = np.empty((5, 2), dtype)
    assert net.forward(X, out=out) is out
    np.testing.assert_array_equal(out, net.forward(X))
    assert net.forward(np.empty((0, 4))).shape == (0, 2)


def test_inputs_of_other_layouts_and_dtypes_are_converted(dtype):
    rng = np.random.default_rng(0)
    net = pynn.MLP([5, 4, 3], dtype=dtype, seed=0)
    X = rng.normal(size=(6, 5))
    want = net.forward(X)
    np.testing.assert_array_equal(net.forward(np.asfortranarray(X)), want)
    big = np.zeros((12, 5))
    big[::2] = X
    np.testing.assert_array_equal(net.forward(big[::2]), want)              # strided rows
    ro = X.astype(dtype)
    ro.flags.writeable = False
    np.testing.assert_array_equal(net.forward(ro), want)                    # read-only
    np.testing.assert_array_equal(net.forward(X.astype(np.float32).astype(dtype)),
                                  net.forward(X.astype(np.float32)))        # float32 in
    Xi = rng.integers(-3, 3, size=(6, 5))
    np.testing.assert_array_equal(net.forward(Xi), net.forward(Xi.astype(dtype)))  # ints
    T = rng.normal(size=(6, 3))
    assert net.loss(X, T.tolist()) == net.loss(X, T)                       # lists


def test_plain_arrays_and_converted_ones_train_alike(dtype):
    """Plain arrays go straight to C; a Fortran-order X, list T or strided view goes
    through the Python layer's conversion first (MLP._on_batch, MLP.train_step): the
    same bits."""
    rng = np.random.default_rng(3)
    X, T = rng.normal(size=(9, 5)).astype(dtype), rng.normal(size=(9, 3)).astype(dtype)
    plain, other = (pynn.MLP([5, 4, 3], dtype=dtype, seed=0) for _ in range(2))
    opt_plain, opt_other = pynn.Adam(lr=0.01), pynn.Adam(lr=0.01)
    wide = np.zeros((9, 10), dtype)
    wide[:, ::2] = X
    for _ in range(3):
        assert plain.train_step(X, T, opt_plain) == other.train_step(wide[:, ::2], T.tolist(),
                                                                     opt_other)
    assert plain.train_step(X, T, opt_plain) == other.train_step(np.asfortranarray(X), T,
                                                                 opt_other)
    np.testing.assert_array_equal(plain.params, other.params)
    loss, grads = plain.gradients(X, T)
    loss_f, grads_f = plain.gradients(np.asfortranarray(X), np.asfortranarray(T))
    assert loss == loss_f == plain.loss(np.asfortranarray(X), T)
    np.testing.assert_array_equal(grads.params, grads_f.params)
    assert issubclass(pynn._core.NotPlain, ValueError)      # what the binding raises


def test_single_output_accepts_1d_targets(dtype):
    net = pynn.MLP([3, 4, 1], dtype=dtype, seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    t = np.arange(5.0)
    assert net.loss(X, t) == net.loss(X, t[:, None])


def test_initialization(dtype):
    net = pynn.MLP([400, 300, 10], activation="relu", output="identity", dtype=dtype, seed=3)
    w0, w1 = net.weights
    assert np.abs(w0).max() <= np.sqrt(6 / 400) and np.abs(w1).max() <= np.sqrt(6 / 310)
    assert w0.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)           # He
    assert w1.std() == pytest.approx(np.sqrt(2 / 310), rel=0.05)           # Glorot
    assert not any(b.any() for b in net.biases)
    n32 = pynn.MLP([400, 300, 10], dtype=np.float32, seed=3)
    n64 = pynn.MLP([400, 300, 10], dtype=np.float64, seed=3)
    np.testing.assert_array_equal(n32.params, n64.params.astype(np.float32))
    assert not np.array_equal(n64.params, pynn.MLP([400, 300, 10], dtype=np.float64, seed=4).params)
