"""The packed GEMM (csrc/gemm): every transpose, sizes around every block size,
alpha/beta (beta == 0 overwrites NaN), leading dimensions larger than the width,
fused epilogues, every kernel the CPU supports (forced through PYNN_KERNEL in a
subprocess), and 1 vs 2 threads bit for bit. Reference: NumPy in float64, with
tolerances scaled by K.

Run as a script (`python test_gemm.py --sweep`) it checks the kernel chosen in
that process, which is how the PYNN_KERNEL subprocesses use it.
"""
import ctypes
import os
import subprocess
import tempfile
import sys

import numpy as np
import pytest

import pynn
from pynn import _core

EPS = {np.float32: np.finfo(np.float32).eps, np.float64: np.finfo(np.float64).eps}
TRANS = [(0, 0), (1, 0), (0, 1), (1, 1)]


# --------------------------------------------------------------- helpers

def operands(rng, ta, tb, m, n, k, dtype):
    """A (m x k, or its transpose k x m when ta), B likewise; values in [-1, 1)."""
    A = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(dtype)
    B = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dtype)
    return A, B


def reference(ta, tb, A, B, C, alpha, beta):
    a = A.astype(np.float64)
    b = B.astype(np.float64)
    r = alpha * ((a.T if ta else a) @ (b.T if tb else b))
    if beta != 0:
        r += beta * C.astype(np.float64)
    return r


def check(got, want, k, dtype, alpha=1.0, beta=0.0, C0=None):
    # each product term is < 1; a K-term sum in dtype errs by at most ~K eps per
    # element (no cancellation assumptions), plus the beta C rounding
    atol = 2 * EPS[dtype] * (abs(alpha) * max(k, 1) + 2)
    if beta != 0 and C0 is not None:
        atol += 2 * EPS[dtype] * abs(beta) * float(np.abs(C0).max(initial=0))
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=0, atol=atol)


def run_gemm(ta, tb, A, B, C, alpha=1.0, beta=0.0, nt=1):
    _core.gemm(bool(ta), bool(tb), A, B, C, alpha, beta, nt)
    return C


def kernel_blocks(dtype):
    """(MR, NR, MC, KC, NC, sup_n, sup_nt, cols_n) of the kernel this process runs (config.c)."""
    return _core._kernel_blocks_for_tests(dtype == np.float64)[:8]


def narrow_below(dtype):
    """Products of fewer columns go to another kernel set (config.c); 0: none."""
    return _core._kernel_blocks_for_tests(dtype == np.float64)[8]


# ---- ctypes access to the C entry point, for leading dims and epilogues

class Epilogue(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int32), ("act", ctypes.c_int32), ("slope", ctypes.c_double),
                ("bias", ctypes.c_void_p), ("deriv_of", ctypes.c_void_p),
                ("ld_deriv", ctypes.c_int64)]


_lib = ctypes.CDLL(_core.__file__)
_lib.pynn_gemm.restype = ctypes.c_int
_lib.pynn_gemm.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                           ctypes.c_int64, ctypes.c_double, ctypes.c_void_p, ctypes.c_int64,
                           ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_void_p,
                           ctypes.c_int64, ctypes.POINTER(Epilogue), ctypes.c_int]


def c_gemm(ta, tb, m, n, k, alpha, A, B, beta, C, epi=None, nt=1):
    """pynn_gemm on row-major views whose row stride may exceed their width."""
    for X in (A, B, C):
        assert X.size == 0 or (X.strides[1] == X.itemsize and X.strides[0] % X.itemsize == 0)
    ld = lambda X: X.strides[0] // X.itemsize if X.size else X.shape[1]  # noqa: E731
    dt = 0 if C.dtype == np.float32 else 1
    st = _lib.pynn_gemm(dt, ta, tb, m, n, k, alpha, A.ctypes.data, ld(A), B.ctypes.data, ld(B),
                        beta, C.ctypes.data, ld(C), ctypes.byref(epi) if epi else None, nt)
    assert st == 0, f"pynn_gemm returned status {st}"


# --------------------------------------------------------------- shapes

def edge_shapes(dtype):
    """(m, n, k): one dimension at a time through every boundary of the running
    kernel set's blocking, the others moderate primes; then a few combined."""
    MR, NR, MC, KC, NC, SUP, SUPT, COLS = kernel_blocks(dtype)
    # ragged row tiles of every height (the kernel runs <= 2 / <= 4 / all rows), and
    # column tiles either side of one vector (<= one vector of columns runs fewer FMAs)
    ms = sorted({1, 2, 3, 4, MR - 3, MR - 2, MR - 1, MR, MR + 1, 2 * MR + 1, MC - 1, MC, MC + 1,
                 97} - {0, -1})
    ns = sorted({1, NR // 2, NR // 2 + 1, NR - 1, NR, NR + 1, SUP, SUP + 1, SUPT, SUPT + 1,
                 COLS, COLS + 1, 4 * NR + 3, 131} - {0})
    ks = sorted({1, 2, 7, KC - 1, KC, KC + 1, 2 * KC + 3})
    shapes = [(m, 37, 29) for m in ms] + [(13, n, 29) for n in ns] + [(13, 37, k) for k in ks]
    shapes += [(2 * MC + 5, 3 * NR + 1, KC + 1), (MR + 1, NC + 5, 5), (MC + 1, SUP, KC + 1),
               (MC + 1, SUP + 1, KC + 1), (MC + 1, max(SUPT, 1), KC + 1), (5, 2 * NC + 3, 3)]
    W = narrow_below(dtype)
    if W:   # the set's own tiles run only from W columns on: every edge width there,
        # and every row count at widths either side of each vector boundary
        vl = 64 // np.dtype(dtype).itemsize
        shapes += [(13, W + r, 29) for r in range(-1, NR + 2)]
        shapes += [(m, W + r, 29) for m in range(1, MR + 2)
                   for r in sorted({h * vl + d for h in range(NR // vl + 1) for d in (-1, 1)} - {-1})]
        shapes += [(2 * MC + 5, W + 3 * NR + 1, KC + 1), (MC + 1, W + 1, KC + 1)]
    return shapes


def sweep(kern, dtypes=(np.float32, np.float64), seed=0):
    """Every shape and transpose of edge_shapes with three alpha/beta cases; used
    in this process and in each PYNN_KERNEL subprocess."""
    rng = np.random.default_rng(seed)
    for dtype in dtypes:
        for m, n, k in edge_shapes(dtype):
            for ta, tb in TRANS:
                A, B = operands(rng, ta, tb, m, n, k, dtype)
                for alpha, beta in ((1.0, 0.0), (1.0, 1.0), (-1.5, 0.25)):
                    C0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
                    C = np.full((m, n), np.nan, dtype) if beta == 0 else C0.copy()
                    run_gemm(ta, tb, A, B, C, alpha, beta)
                    want = reference(ta, tb, A, B, C0, alpha, beta)
                    try:
                        check(C, want, k, dtype, alpha, beta, C0)
                    except AssertionError as e:
                        raise AssertionError(f"{kern} {dtype.__name__} m={m} n={n} k={k} "
                                             f"ta={ta} tb={tb} alpha={alpha} beta={beta}: {e}")


# --------------------------------------------------------------- tests

@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("ta,tb", TRANS, ids=["NN", "TN", "NT", "TT"])
def test_edges_all_transposes(dtype, ta, tb):
    rng = np.random.default_rng(1)
    for m, n, k in edge_shapes(dtype):
        A, B = operands(rng, ta, tb, m, n, k, dtype)
        C = np.full((m, n), np.nan, dtype)             # beta == 0 must overwrite NaN
        run_gemm(ta, tb, A, B, C)
        check(C, reference(ta, tb, A, B, C, 1.0, 0.0), k, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (1.0, 1.0), (1.0, -0.5), (-2.0, 0.0),
                                        (0.5, 3.0), (0.0, 0.5), (0.0, 0.0)])
def test_alpha_beta(dtype, alpha, beta):
    rng = np.random.default_rng(2)
    MR, NR, MC, KC, NC, SUP, SUPT, COLS = kernel_blocks(dtype)
    for m, n, k in [(MC + 7, 3 * NR + 5, 2 * KC + 9), (11, SUP - 3, KC + 2), (MR, NR, 3)]:
        for ta, tb in TRANS:
            A, B = operands(rng, ta, tb, m, n, k, dtype)
            C0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
            C = np.full((m, n), np.nan, dtype) if beta == 0 else C0.copy()
            run_gemm(ta, tb, A, B, C, alpha, beta)
            check(C, reference(ta, tb, A, B, C0, alpha, beta), k, dtype, alpha, beta, C0)
            if beta == 0:
                assert not np.isnan(C).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("nt", [1, 2])
def test_column_kernel_is_bitwise_the_micro_kernel(dtype, nt):
    """Products with few columns on the column kernel (vectors down C's rows):
    A^T B (A read in place) and A B with A row-major and at least 32 rows (A
    packed transposed) equal the same product as A B^T with B transposed
    beforehand (the micro-kernel), bit for bit: every column count up to cols_n
    and past it, ragged row tiles and panels, several depth panels, beta 0 over
    NaN, 1 and other."""
    rng = np.random.default_rng(11)
    MR, NR, MC, KC, NC, SUP, SUPT, COLS = kernel_blocks(dtype)
    for n in range(1, COLS + 2):
        for m, k in [(1, 3), (7, 1), (17, 40), (33, KC + 1), (97, 2 * KC + 3), (MC + 45, 9)]:
            A, B = operands(rng, 1, 0, m, n, k, dtype)
            At, Bt = np.ascontiguousarray(A.T), np.ascontiguousarray(B.T)
            for alpha, beta in ((1.0, 0.0), (-1.5, 0.25), (1.0, 1.0)):
                C0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
                start = (lambda: np.full((m, n), np.nan, dtype)) if beta == 0 else C0.copy
                want = run_gemm(0, 1, At, Bt, C0.copy(), alpha, beta, nt)
                for ta, a in ((1, A), (0, At)):
                    got = run_gemm(ta, 0, a, B, start(), alpha, beta, nt)
                    np.testing.assert_array_equal(got, want, err_msg=f"ta={ta} m={m} n={n} "
                                                  f"k={k} alpha={alpha} beta={beta}")
                check(want, reference(1, 0, A, B, C0, alpha, beta), k, dtype, alpha, beta, C0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_k_zero_scales_c(dtype):
    C0 = np.arange(12, dtype=dtype).reshape(3, 4)
    A, B = np.empty((3, 0), dtype), np.empty((0, 4), dtype)
    for beta in (0.0, 1.0, -2.0):
        C = np.full((3, 4), np.nan, dtype) if beta == 0 else C0.copy()
        c_gemm(0, 0, 3, 4, 0, 1.0, A, B, beta, C)
        np.testing.assert_array_equal(C, beta * C0 if beta else np.zeros_like(C0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("ta,tb", TRANS, ids=["NN", "TN", "NT", "TT"])
def test_leading_dims_larger_than_width(dtype, ta, tb):
    rng = np.random.default_rng(3)
    MR, NR, MC, KC, NC, SUP, SUPT, COLS = kernel_blocks(dtype)
    for m, n, k in [(MC + 5, 2 * NR + 3, KC + 7), (MR + 1, SUP - 1, 19), (37, 5 * NR, 2),
                    (41, max(COLS - 1, 1), 19), (29, 611, 9), (101, 611, 9),
                    (MR + 3, 2 * NR, 2 * KC + 3)]:
        # ^ column kernel; a thin depth walked along rows, on 1 thread and split by rows on
        # 2; B read in place (unaligned rows: gemm.c's b_in_place) over several depth panels
        A, B = operands(rng, ta, tb, m, n, k, dtype)
        # embed each operand in a wider array: row stride = width + 7
        Aw = np.full((A.shape[0], A.shape[1] + 7), np.nan, dtype)
        Bw = np.full((B.shape[0], B.shape[1] + 7), np.nan, dtype)
        Cw = np.full((m, n + 9), np.nan, dtype)
        Aw[:, :A.shape[1]] = A
        Bw[:, :B.shape[1]] = B
        C0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
        Cw[:, :n] = C0
        c_gemm(ta, tb, m, n, k, 0.75, Aw[:, :A.shape[1]], Bw[:, :B.shape[1]], 0.5, Cw[:, :n], nt=2)
        check(Cw[:, :n], reference(ta, tb, A, B, C0, 0.75, 0.5), k, dtype, 0.75, 0.5, C0)
        assert np.isnan(Cw[:, n:]).all(), "wrote outside the m x n window of C"


ACT_CODES = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4}


def act_np(name, z, slope=0.1):
    return {"identity": lambda: z, "sigmoid": lambda: 1 / (1 + np.exp(-z)), "tanh": lambda: np.tanh(z),
            "relu": lambda: np.maximum(z, 0), "leaky_relu": lambda: np.where(z > 0, z, slope * z)}[name]()


def dact_np(name, a, slope=0.1):
    return {"identity": lambda: np.ones_like(a), "sigmoid": lambda: a * (1 - a), "tanh": lambda: 1 - a * a,
            "relu": lambda: (a > 0).astype(a.dtype),
            "leaky_relu": lambda: np.where(a > 0, 1.0, slope)}[name]()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("act", list(ACT_CODES))
def test_epilogue_applied_once_after_full_k(dtype, act):
    """Bias + activation (forward) and * f'(A) (backward), with K split into
    several KC panels, both paths (packed, A in place), a thin depth over wide
    rows (the tiles walked row by row), 2 threads."""
    rng = np.random.default_rng(4)
    MR, NR, MC, KC, NC, SUP, SUPT, COLS = kernel_blocks(dtype)
    for m, n, k in [(MC + 13, 3 * NR + 1, 2 * KC + 5), (2 * MC + 1, SUP, KC + 3), (7, 5, 9),
                    (3 * MR + 1, 611, 10), (16 * MR + 1, 611, 10)]:
        for ta, tb in TRANS:
            A, B = operands(rng, ta, tb, m, n, k, dtype)
            bias = rng.uniform(-1, 1, n).astype(dtype)
            C = np.full((m, n), np.nan, dtype)
            epi = Epilogue(1, ACT_CODES[act], 0.1, bias.ctypes.data, None, 0)
            c_gemm(ta, tb, m, n, k, 1.0, A, B, 0.0, C, epi, nt=2)
            z = reference(ta, tb, A, B, C, 1.0, 0.0) + bias
            tol = 2 * EPS[dtype] * (k + 4)
            np.testing.assert_allclose(C, act_np(act, z), rtol=tol, atol=tol)
            # backward: C = (op(A) op(B)) * f'(D), D = an activation output (+ row stride)
            Dw = np.full((m, n + 3), np.nan, dtype)
            Dw[:, :n] = act_np(act, rng.uniform(-2, 2, (m, n))).astype(dtype)
            C = np.full((m, n), np.nan, dtype)
            epi = Epilogue(2, ACT_CODES[act], 0.1, None, Dw.ctypes.data, n + 3)
            c_gemm(ta, tb, m, n, k, 1.0, A, B, 0.0, C, epi, nt=2)
            want = reference(ta, tb, A, B, C, 1.0, 0.0) * dact_np(act, Dw[:, :n].astype(np.float64))
            np.testing.assert_allclose(C, want, rtol=0, atol=tol * 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("act", list(ACT_CODES))
def test_fused_epilogue_is_bitwise_the_unfused_one(dtype, act):
    """The epilogue in the kernel's registers rounds exactly like applying it to
    the stored product afterwards (act.h's order of operations), on full and
    edge tiles, with beta 0 (C's NaN overwritten) and not, NaN passed through."""
    check_fused_epilogue(dtype, act, np.random.default_rng(9))


def check_fused_epilogue(dtype, act, rng):
    """The test above, for the kernel this process runs (also from each PYNN_KERNEL
    sweep): full and edge tiles of its own set and of the one it hands narrow
    products to."""
    MR, NR, MC, KC, NC, SUP, SUPT, COLS = kernel_blocks(dtype)
    W = narrow_below(dtype)
    slope = dtype(0.1)
    shapes = [(2 * MR + 1, 2 * NR + 3, 37), (MR, NR, 5), (1, 1, 1), (MR + 1, 611, 9),
              (70, 1, 37), (33, 5, 300), (64, max(COLS, 1), 9)]   # few columns: column kernel
    if W:
        shapes += [(2 * MR + 1, W + 2 * NR + 3, 37), (MR, W + NR, 5), (3, W + NR // 2 + 1, 300)]
    for m, n, k in shapes:
        for (ta, tb), beta in [(t, b) for t in TRANS for b in (0.5, 0.0)]:
            A, B = operands(rng, ta, tb, m, n, k, dtype)
            C0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
            C0[0, 0] = np.nan
            plain = C0.copy()
            c_gemm(ta, tb, m, n, k, 1.0, A, B, beta, plain)
            D = act_np(act, rng.uniform(-2, 2, (m, n))).astype(dtype)
            D[-1, 0] = np.nan
            if act in ("identity", "relu", "leaky_relu"):       # forward, in registers
                bias = rng.uniform(-1, 1, n).astype(dtype)
                z = plain + bias
                want = {"identity": z, "relu": np.where(z < 0, dtype(0), z),
                        "leaky_relu": np.where(z < 0, slope * z, z)}[act]
                C = C0.copy()
                epi = Epilogue(1, ACT_CODES[act], 0.1, bias.ctypes.data, None, 0)
                c_gemm(ta, tb, m, n, k, 1.0, A, B, beta, C, epi)
                np.testing.assert_array_equal(C, want)
            want = {"identity": plain, "sigmoid": plain * (D * (dtype(1) - D)),
                    "tanh": plain * (dtype(1) - D * D), "relu": np.where(D > 0, plain, dtype(0)),
                    "leaky_relu": np.where(D > 0, plain, slope * plain)}[act]
            C = C0.copy()
            epi = Epilogue(2, ACT_CODES[act], 0.1, None, D.ctypes.data, n)
            c_gemm(ta, tb, m, n, k, 1.0, A, B, beta, C, epi)
            np.testing.assert_array_equal(C, want)


# shapes that take both paths, several ic/jr items and several KC panels
THREAD_SHAPES = [(1000, 700, 600), (128, 10, 784), (784, 256, 128), (256, 1024, 1024),
                 (517, 33, 300), (300, 17, 1000), (97, 4100, 31), (150, 150, 150)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_one_and_two_threads_bit_identical(dtype):
    rng = np.random.default_rng(5)
    for m, n, k in THREAD_SHAPES:
        for ta, tb in TRANS:
            A, B = operands(rng, ta, tb, m, n, k, dtype)
            C0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
            c1 = run_gemm(ta, tb, A, B, C0.copy(), 1.0, 0.5, nt=1)
            c2 = run_gemm(ta, tb, A, B, C0.copy(), 1.0, 0.5, nt=2)
            c3 = run_gemm(ta, tb, A, B, C0.copy(), 1.0, 0.5, nt=3)   # more threads than cores
            np.testing.assert_array_equal(c1, c2, err_msg=f"{m}x{n}x{k} ta={ta} tb={tb}")
            np.testing.assert_array_equal(c1, c3, err_msg=f"{m}x{n}x{k} ta={ta} tb={tb}")


def test_matmul_transposed_views_and_thread_setting():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((300, 200)).astype(np.float32)
    b = rng.standard_normal((300, 150)).astype(np.float32)
    with pynn.num_threads(1):
        r1 = pynn.ops.matmul(a.T, b)                  # TN without a copy
    with pynn.num_threads(2):
        r2 = pynn.ops.matmul(a.T, b)
    np.testing.assert_array_equal(r1, r2)
    check(r1, a.T.astype(np.float64) @ b, 300, np.float32, C0=None)
    bt = rng.standard_normal((150, 200)).astype(np.float32)
    out = np.empty((300, 150), np.float32)
    res = pynn.ops.matmul(a, bt.T, out=out)           # NT into out
    assert res is out
    check(out, a.astype(np.float64) @ bt.T.astype(np.float64), 200, np.float32)


# --------------------------------------------------------------- kernels

def _run_sweep_in_subprocess(kernel):
    env = dict(os.environ, PYNN_KERNEL=kernel)
    return subprocess.run([sys.executable, os.path.abspath(__file__), "--sweep"], env=env,
                          capture_output=True, text=True, timeout=300)


def test_every_supported_kernel_passes_the_sweep():
    """Each kernel the CPU supports, forced through PYNN_KERNEL in a fresh process."""
    for kernel in _core.kernel_list():
        r = _run_sweep_in_subprocess(kernel)
        assert r.returncode == 0, f"PYNN_KERNEL={kernel}:\n{r.stdout}\n{r.stderr}"
        assert r.stdout.split()[-1] == f"ok:{kernel}", r.stdout


@pytest.mark.parametrize("forced", ["avx512", "bogus", ""])
def test_unsupported_or_unknown_kernel_falls_back_to_best(forced):
    env = dict(os.environ, PYNN_KERNEL=forced)
    code = ("import pynn, numpy as np; a = np.ones((9, 20), np.float32);"
            "assert (pynn.ops.matmul(a, a.T) == 20).all(); print(pynn.info()['kernel'])")
    # run outside the repository, so that the source tree cannot shadow the installed package
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120, cwd=tempfile.gettempdir())
    assert r.returncode == 0, r.stderr
    best = _core.kernel_list()[-1]
    if forced == "avx512" and "avx512" in _core.kernel_list():
        best = "avx512"
    assert r.stdout.strip() == best


def test_info_reports_kernel():
    info = pynn.info()
    assert info["kernel"] in info["kernels_available"]
    assert "generic" in info["kernels_available"]


if __name__ == "__main__" and "--sweep" in sys.argv:
    name = _core.kernel_name()
    want = os.environ.get("PYNN_KERNEL")
    assert want is None or want == name, f"asked for {want}, got {name}"
    sweep(name)
    for dtype in (np.float32, np.float64):   # its fused epilogues; threads agree too
        for act in ACT_CODES:
            check_fused_epilogue(dtype, act, np.random.default_rng(9))
        rng = np.random.default_rng(7)
        for m, n, k in THREAD_SHAPES[:3]:
            A, B = operands(rng, 0, 1, m, n, k, dtype)
            c1 = run_gemm(0, 1, A, B, np.empty((m, n), dtype), nt=1)
            c2 = run_gemm(0, 1, A, B, np.empty((m, n), dtype), nt=2)
            assert np.array_equal(c1, c2), (name, m, n, k)
    print(f"ok:{name}")
