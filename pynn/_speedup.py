"""The multicore speedup benchmark of `python -m pynn bench`: train_step
throughput (samples/s) at 1..N threads on one network and batch, printed as a
table and, with matplotlib, plotted to PNG."""
import sys
import time

import numpy as np

from . import _threads
from .mlp import MLP
from .optim import SGD


def _rate(net, X, y, opt, seconds):
    """Best samples/s over repeats of a few steps within ~`seconds` (best: least disturbed
    by other processes on a shared machine)."""
    net.train_step(X, y, opt)   # warm-up: workspace, thread team
    best, deadline, steps = 0.0, time.perf_counter() + seconds, 1
    while True:
        t0 = time.perf_counter()
        for _ in range(steps):
            net.train_step(X, y, opt)
        dt = time.perf_counter() - t0
        best = max(best, steps * X.shape[0] / dt)
        if dt < 0.05:
            steps *= 2
        if time.perf_counter() > deadline:
            return best


def run_speedup(sizes=(784, 256, 256, 10), batch=512, max_threads=None, seconds=1.0,
                dtype=np.float32, path="pynn_speedup.png", stream=None):
    """Measures train_step throughput at 1..max_threads threads.

    Parameters
    ----------
    sizes : sequence of int
        The network (softmax + cross-entropy output).
    batch : int
        Rows per train_step.
    max_threads : int, optional
        Default: the threads pynn would use now (OMP_NUM_THREADS, or all cores).
    seconds : float
        Measuring time per thread count.
    dtype : np.float32 or np.float64
    path : str or None
        Save the speedup plot there (PNG) when matplotlib is installed; None: no plot.
    stream : file-like, optional
        Where the table goes; default sys.stdout.

    Returns
    -------
    list of (threads, samples_per_s)
    """
    out = sys.stdout if stream is None else stream
    max_threads = _threads.get_num_threads() if max_threads is None else max_threads
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch)
    net = MLP(sizes, loss="cross_entropy", dtype=dtype, seed=0)
    net.adaptive_threads = False          # measure exactly t threads, not the tuner's choice
    opt = SGD(lr=1e-3)
    out.write(f"train_step, sizes {list(sizes)}, batch {batch}, {np.dtype(dtype).name}\n")
    out.write(f"{'threads':>7}  {'samples/s':>12}  {'speedup':>7}  {'efficiency':>10}\n")
    rows = []
    for t in range(1, max_threads + 1):
        with _threads.num_threads(t):
            rate = _rate(net, X, y, opt, seconds)
        rows.append((t, rate))
        s = rate / rows[0][1]
        out.write(f"{t:>7}  {rate:>12,.0f}  {s:>6.2f}x  {s / t:>10.0%}\n")
        out.flush()
    if path is not None:
        try:
            from .plot import speedup
            speedup([t for t, _ in rows], [r for _, r in rows], path=path)
            out.write(f"plot saved to {path}\n")
        except ImportError:
            out.write("matplotlib is not installed: no plot (pip install matplotlib)\n")
    return rows
