"""pytest-benchmark: pynn's GEMM against NumPy's BLAS, one group per shape and
thread count (issue 3's shapes). Run: python -P -m pytest bench/bench_gemm.py
--benchmark-only [--benchmark-group-by=group]. GFLOP/s = extra_info["flop"] / mean.
The table with % of peak and interleaved medians is bench/gemm_table.py."""
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import pynn

SQUARES = [64, 128, 256, 512, 1024, 2048]
MLPS = [([784, 256, 128, 10], 128), ([1024, 1024, 1024, 10], 256)]


def _shapes():
    out = [pytest.param(0, 0, s, s, s, np.float32, id=f"sq{s}-f32") for s in SQUARES]
    out += [pytest.param(0, 0, s, s, s, np.float64, id=f"sq{s}-f64") for s in (512, 1024)]
    for sizes, batch in MLPS:
        tag = "-".join(map(str, sizes))
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            out.append(pytest.param(0, 0, batch, n_out, n_in, np.float32, id=f"{tag}-b{batch}-L{l}-fwd"))
            out.append(pytest.param(1, 0, n_in, n_out, batch, np.float32, id=f"{tag}-b{batch}-L{l}-dW"))
            if l > 0:
                out.append(pytest.param(0, 1, batch, n_in, n_out, np.float32, id=f"{tag}-b{batch}-L{l}-dX"))
    return out


THREADS = sorted({1, os.cpu_count() or 1})


@pytest.mark.parametrize("nt", THREADS, ids=[f"{t}thr" for t in THREADS])
@pytest.mark.parametrize("lib", ["pynn", "numpy"])
@pytest.mark.parametrize("ta,tb,m,n,k,dtype", _shapes())
def test_gemm(benchmark, lib, nt, ta, tb, m, n, k, dtype):
    rng = np.random.default_rng(0)
    A = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(dtype)
    B = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dtype)
    C = np.zeros((m, n), dtype)
    a, b = (A.T if ta else A), (B.T if tb else B)
    benchmark.group = f"gemm {m}x{n}x{k} {'T' if ta else 'N'}{'T' if tb else 'N'} " \
                      f"{np.dtype(dtype).name} {nt}thr"
    benchmark.extra_info["flop"] = 2 * m * n * k
    if lib == "pynn":
        with pynn.num_threads(nt):
            benchmark(lambda: pynn.ops.matmul(a, b, out=C))
    else:
        with threadpool_limits(nt):
            benchmark(lambda: np.matmul(a, b, out=C))
    ref = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(C, ref, rtol=0, atol=4 * np.finfo(dtype).eps * k)
