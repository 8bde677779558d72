"""pynn.ops, the single steps of the maths, against the NumPy reference: every
activation, both dtypes, edge sizes, 1 and 2 threads."""
import numpy as np
import pytest

import pynn
import numpy_ref as ref

RTOL = {np.float32: 2e-5, np.float64: 1e-12}
ALL_ACTS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"]
SHAPES = [(1, 1, 1), (1, 7, 3), (5, 1, 9), (17, 33, 6), (64, 16, 31), (3, 130, 70)]


def close(got, want, dtype, k=1):
    want = np.asarray(want)
    atol = RTOL[dtype] * max(1.0, float(np.abs(want).max())) * max(1, np.sqrt(k))
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype] * max(1, np.sqrt(k)), atol=atol)


def data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    n, n_in, n_out = shape
    X = rng.normal(size=(n, n_in)).astype(dtype)
    W = (rng.normal(size=(n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
    b = rng.normal(size=n_out).astype(dtype)
    return X, W, b, rng


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act", ALL_ACTS)
def test_dense_forward_backward(act, shape, threads, dtype):
    X, W, b, rng = data(shape, dtype)
    with pynn.num_threads(threads):
        A = pynn.ops.dense_forward(X, W, b, act, slope=0.1)
        A_ref = ref.act(act, X.astype(float) @ W.astype(float) + b, 0.1)
        close(A, A_ref, dtype, shape[1])
        dA = rng.normal(size=A.shape)
        dX, dW, db = pynn.ops.dense_backward(X, W, A, dA, act, slope=0.1)
    dZ = ref.act_backward(act, A.astype(float), dA.astype(dtype).astype(float), 0.1)
    close(dW, X.astype(float).T @ dZ, dtype, shape[0])
    close(db, dZ.sum(axis=0), dtype, shape[0])
    close(dX, dZ @ W.astype(float).T, dtype, shape[2])
    assert A.dtype == dX.dtype == dW.dtype == db.dtype == dtype


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (64, 10), (129, 1)])
def test_mse_and_grad(shape, dtype):
    rng = np.random.default_rng(1)
    Y, T = rng.normal(size=shape).astype(dtype), rng.normal(size=shape).astype(dtype)
    Y64, T64 = Y.astype(float), T.astype(float)
    assert pynn.ops.mse(Y, T) == pytest.approx(ref.mse(Y64, T64), rel=1e-12)  # double accumulation
    close(pynn.ops.mse_grad(Y, T), ref.mse_grad(Y64, T64), dtype)


@pytest.mark.parametrize("shape", [(1, 2), (5, 3), (64, 10), (33, 1)])
def test_softmax_cross_entropy(shape, dtype):
    rng = np.random.default_rng(2)
    Z = (5 * rng.normal(size=shape)).astype(dtype)
    labels = rng.integers(0, shape[1], shape[0])
    T = ref.one_hot(labels, shape[1])
    Z64 = Z.astype(float)
    assert pynn.ops.softmax_cross_entropy(Z, labels) == pytest.approx(ref.cross_entropy(Z64, T), rel=1e-12)
    assert pynn.ops.softmax_cross_entropy(Z, T) == pytest.approx(ref.cross_entropy(Z64, T), rel=1e-12)
    close(pynn.ops.softmax_cross_entropy_grad(Z, labels), ref.cross_entropy_grad(Z64, T), dtype)
    soft = rng.dirichlet(np.ones(shape[1]), shape[0])
    close(pynn.ops.softmax_cross_entropy_grad(Z, soft), ref.cross_entropy_grad(Z64, soft), dtype)


def test_textbook_loop_by_hand_matches_train_step(dtype):
    """One SGD step written with pynn.ops equals MLP.train_step."""
    rng = np.random.default_rng(3)
    net = pynn.MLP([5, 8, 3], activation="tanh", dtype=dtype, seed=2)
    X, T = rng.normal(size=(9, 5)).astype(dtype), rng.normal(size=(9, 3)).astype(dtype)
    (W1, W2), (b1, b2) = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    A1 = pynn.ops.dense_forward(X, W1, b1, "tanh")
    A2 = pynn.ops.dense_forward(A1, W2, b2, "identity")
    loss = pynn.ops.mse(A2, T)
    dA1, dW2, db2 = pynn.ops.dense_backward(A1, W2, A2, pynn.ops.mse_grad(A2, T), "identity")
    _, dW1, db1 = pynn.ops.dense_backward(X, W1, A1, dA1, "tanh")
    assert net.train_step(X, T, pynn.SGD(lr=0.5)) == pytest.approx(loss, rel=1e-6)
    for p, q, g in [(net.weights[0], W1, dW1), (net.biases[0], b1, db1),
                    (net.weights[1], W2, dW2), (net.biases[1], b2, db2)]:
        np.testing.assert_allclose(p, q - 0.5 * g, rtol=RTOL[dtype] * 10, atol=RTOL[dtype])


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_basic(ta, tb, dtype):
    rng = np.random.default_rng(4)
    a = rng.normal(size=(13, 7)).astype(dtype)
    b = rng.normal(size=(7, 5)).astype(dtype)
    a_in = np.ascontiguousarray(a.T).T if ta else a       # a transposed view of a C array
    b_in = np.ascontiguousarray(b.T).T if tb else b
    close(pynn.ops.matmul(a_in, b_in), a.astype(float) @ b.astype(float), dtype, 7)


def _matmul_operands(dtype):
    """(name, a, b) pairs of every kind matmul takes: the in-place kinds its
    one-call path reads (C arrays, transposed views, Fortran arrays, shapes
    with a side of 1, which are C- and F-contiguous at once) and the kinds it
    hands to the converting path (strided slices, other or mixed dtypes, lists,
    read-only arrays are read in place too); the first 7 are the in-place kinds."""
    rng = np.random.default_rng(9)
    a = rng.normal(size=(19, 12)).astype(dtype)
    b = rng.normal(size=(12, 7)).astype(dtype)
    ro = a.copy()
    ro.flags.writeable = False
    col = np.ascontiguousarray
    return [("C", a, b), ("fortran", np.asfortranarray(a), np.asfortranarray(b)),
            ("row", a[:1], b), ("column", a, col(b[:, :1])), ("k=1", col(a[:, :1]), b[:1]),
            ("1x1", a[:1, :1], b[:1, :1]), ("read-only", ro, b),
            ("strided", np.repeat(a, 2, axis=1)[:, ::2], b[::-1][::-1]),
            ("ints", (a * 4).astype(np.int64), b), ("mixed", a, b.astype(np.float16)),
            ("list", a.tolist(), b)]


@pytest.mark.parametrize("kind", range(11))
def test_matmul_every_operand_kind(kind, dtype):
    name, a, b = _matmul_operands(dtype)[kind]
    want = np.asarray(a, dtype=float) @ np.asarray(b, dtype=float)
    one_call = pynn._core.matmul(a, b, None, 1)           # None: not a kind it reads in place
    assert (one_call is None) == (kind >= 7), name
    if one_call is not None:
        close(one_call, want, dtype, 12)
    got = pynn.ops.matmul(a, b)
    assert got.dtype == np.result_type(np.asarray(a), np.asarray(b), np.float32), name
    close(got, want, got.dtype.type, 12)
    out = np.full(want.shape, np.nan, got.dtype)
    assert pynn.ops.matmul(a, b, out=out) is out, name
    close(out, want, got.dtype.type, 12)


def test_matmul_out_that_overlaps_an_operand(dtype):
    """out may be a or b itself, or overlap them: the product reads its operands
    whole before writing (through a copy), as NumPy's does."""
    rng = np.random.default_rng(10)
    a = rng.normal(size=(9, 9)).astype(dtype)
    want = a.astype(float) @ a.astype(float)
    x = a.copy()
    assert pynn.ops.matmul(x, x, out=x) is x
    close(x, want, dtype, 9)
    x = a.copy()
    pynn.ops.matmul(x.T, x, out=x)                     # a transposed view of out
    close(x, a.T.astype(float) @ a.astype(float), dtype, 9)
    buf = np.zeros(2 * 81, dtype)
    buf[:81] = a.ravel()
    lhs, out = buf[:81].reshape(9, 9), buf[40:121].reshape(9, 9)   # out's start inside lhs
    pynn.ops.matmul(lhs, a, out=out)
    close(out, want, dtype, 9)


def test_matmul_empty_and_out_errors():
    assert pynn.ops.matmul(np.ones((0, 3)), np.ones((3, 2))).shape == (0, 2)
    np.testing.assert_array_equal(pynn.ops.matmul(np.ones((2, 0)), np.ones((0, 3))),
                                  np.zeros((2, 3)))
    a, b = np.ones((4, 3), np.float32), np.ones((3, 2), np.float32)
    got = pynn.ops.matmul(a, b, out=np.empty((4, 2)))   # out's dtype is the product's
    assert got.dtype == np.float64 and (got == 3).all()
    with pytest.raises(ValueError, match=r"out must have shape \(4, 2\)"):
        pynn.ops.matmul(a, b, out=np.empty((2, 4), np.float32))
    ro = np.empty((4, 2), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out must be C-contiguous and writable"):
        pynn.ops.matmul(a, b, out=ro)
    with pytest.raises(ValueError, match="out must be C-contiguous and writable"):
        pynn.ops.matmul(a, b, out=np.empty((2, 4), np.float32).T)
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        pynn.ops.matmul(a, b, out=[[0, 0]] * 4)


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softmax"])
def test_float32_exp_based_activations_within_a_few_ulp(act):
    """float32 sigmoid, tanh and softmax use pynn's own vectorizable exp
    (nn/act.h), not libm's: within 3 ulp of the float64 values over the whole
    range, exact at the limits, NaN kept; results too small to be normal
    floats within FLT_MIN absolutely."""
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-110, 110, 20000), rng.uniform(-2, 2, 20000),
                        rng.uniform(-0.5, 0.5, 5000), np.linspace(-105, 90, 4001),
                        [0.0, -0.0, 1e-30, -1e-30, 0.4, -0.4, 88.72, -88.72, 103.9, -103.9,
                         np.inf, -np.inf, np.nan]]).astype(np.float32)
    if act == "softmax":                               # pairs (x, 0): softmax_0 = sigmoid(x)
        X = np.stack([x, np.zeros_like(x)], axis=1)
        got = pynn.ops.dense_forward(X, np.eye(2, dtype=np.float32), np.zeros(2, np.float32),
                                     "softmax")[:, 0]
        want = 1 / (1 + np.exp(-x.astype(np.float64)))
        finite = np.isfinite(x)                        # softmax of inf is NaN, as in NumPy
        got, want, xs = got[finite], want[finite], x[finite]
    else:
        got = pynn.ops.dense_forward(x[:, None], np.ones((1, 1), np.float32),
                                     np.array([-0.0], np.float32), act)[:, 0]
        with np.errstate(over="ignore"):
            want = (np.tanh if act == "tanh" else lambda z: 1 / (1 + np.exp(-z)))(
                x.astype(np.float64))
        xs = x
    nan = np.isnan(xs)
    assert np.isnan(got[nan]).all()
    got, want = got[~nan].astype(np.float64), want[~nan]
    tiny = float(np.finfo(np.float32).tiny)
    normal = np.abs(want) >= tiny
    ulp = np.spacing(np.abs(want[normal]).astype(np.float32)).astype(np.float64)
    assert (np.abs(got[normal] - want[normal]) / ulp).max() <= 3
    assert (np.abs(got[~normal] - want[~normal])).max(initial=0) <= tiny
    if act == "tanh":
        assert got[xs[~nan] == np.inf].tolist() == [1.0]
        assert got[xs[~nan] == -np.inf].tolist() == [-1.0]
    if act == "sigmoid":
        assert got[xs[~nan] == np.inf].tolist() == [1.0]
        assert got[xs[~nan] == -np.inf].tolist() == [0.0]
