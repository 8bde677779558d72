"""Prints issue 3's GEMM table: GFLOP/s, % of the measured FMA peak, and the
ratio to NumPy's BLAS, at 1 thread and at all threads.

    python -P bench/gemm_table.py [--reps 15] [--threads 1,2] [--quick]

- The peak comes from bench/peak/peak.c (independent FMA chains on the widest
  vectors the CPU has: AVX-512 where it has it, else AVX2), built here with
  gcc -O2 -fopenmp.
- Both are timed through the call a user makes, checks included: pynn through
  pynn.ops.matmul, NumPy through np.matmul, each with out= and transposed
  views, so both run the same TN/NT product with no copy.
- Runs are interleaved (pynn, numpy, pynn, numpy, ...); each sample repeats the
  call until it lasts >= 20 ms; the table shows medians over --reps samples.
  Threads are pinned the same way: pynn via set_num_threads, OpenBLAS via
  threadpoolctl.threadpool_limits.
- At more than one thread each library is timed in child processes of its
  own (OpenBLAS's idle threads keep spinning after each call, and would take
  the core pynn's OpenMP team needs right after, and the other way round),
  interleaved in --rounds rounds (pynn, numpy, then numpy, pynn, ...), each
  child taking its share of the samples: on a shared machine the second core
  comes and goes, and a library timed only while it was gone would look half
  as fast.
- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, change which kernel OpenBLAS
  uses; they are read when OpenBLAS loads, so NumPy is also timed in a child
  process with both unset ("numpy*" column) and pynn is compared against the
  faster of the two.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
SQUARES = [64, 128, 256, 512, 1024, 2048]
MLPS = [([784, 256, 128, 10], 128), ([1024, 1024, 1024, 10], 256)]
OB_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def shapes(quick=False):
    """(label, trans_a, trans_b, m, n, k, dtype)."""
    out = []
    for s in SQUARES if not quick else [256, 1024]:
        out.append((f"square {s}", 0, 0, s, s, s, "float32"))
    for sizes, batch in MLPS:
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            tag = f"{'-'.join(map(str, sizes))} b{batch} L{l}"
            out.append((f"{tag} fwd  XW", 0, 0, batch, n_out, n_in, "float32"))
            out.append((f"{tag} dW X^T dZ", 1, 0, n_in, n_out, batch, "float32"))
            if l > 0:   # the network never computes dX of the first layer
                out.append((f"{tag} dX dZ W^T", 0, 1, batch, n_in, n_out, "float32"))
    for s in [512, 1024, 2048] if not quick else [1024]:
        out.append((f"square {s}", 0, 0, s, s, s, "float64"))
    return out


def operands(ta, tb, m, n, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(dtype)
    B = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dtype)
    C = np.zeros((m, n), dtype)
    return A, B, C


def calls_for(f, target=0.02):
    """How many calls make one sample last about `target` seconds."""
    f()
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        t = time.perf_counter() - t0
        if t >= target / 4 or n >= 1 << 20:
            return max(1, int(n * target / max(t, 1e-9)))
        n *= 4


def sample(f, n):
    t0 = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t0) / n


def numpy_fn(ta, tb, A, B, C):
    a = A.T if ta else A
    b = B.T if tb else B
    return lambda: np.matmul(a, b, out=C)


def openblas_kernel():
    for lib in threadpool_info():
        if lib.get("internal_api") == "openblas":
            return f"{lib.get('architecture')} ({os.path.basename(lib.get('filepath', ''))}, " \
                   f"{lib.get('version')})"
    return "not OpenBLAS: " + ", ".join(lib.get("internal_api", "?") for lib in threadpool_info())


def pynn_fn(ta, tb, A, B, C, nt):
    """pynn's product, on nt threads from now until the next pynn_fn."""
    import pynn
    pynn.set_num_threads(nt)
    a = A.T if ta else A
    b = B.T if tb else B
    return lambda: pynn.ops.matmul(a, b, out=C)


def child(args):
    """Child mode: one library's samples (seconds per call), printed as JSON."""
    res = {"kernel": openblas_kernel(), "times": {}}
    for nt in args.threads:
        for label, ta, tb, m, n, k, dt in shapes(args.quick):
            A, B, C = operands(ta, tb, m, n, k, dt)
            with threadpool_limits(nt):
                f = pynn_fn(ta, tb, A, B, C, nt) if args.child == "pynn" else \
                    numpy_fn(ta, tb, A, B, C)
                reps = calls_for(f)
                ts = [sample(f, reps) for _ in range(args.reps)]
            res["times"][f"{nt}|{label}|{dt}"] = ts
    print(json.dumps(res))


def measure_peak():
    src = os.path.join(HERE, "peak", "peak.c")
    exe = os.path.join(tempfile.mkdtemp(), "peak")
    subprocess.run(["gcc", "-O2", "-fopenmp", src, "-o", exe], check=True)
    peaks, isa = {}, ""
    for nt in sorted({1, os.cpu_count() or 1}):
        out = subprocess.run([exe, str(nt)], capture_output=True, text=True, check=True).stdout
        for line in out.split("\n"):
            if line.strip():
                key, val = line.split()
                if key == "isa":
                    isa = val
                else:
                    peaks[(key, nt)] = float(val)
    return peaks, isa


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--threads", default=None, help="comma-separated, default 1,all")
    ap.add_argument("--rounds", type=int, default=3, help="child rounds at more than 1 thread")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", choices=("pynn", "numpy"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    n_all = os.cpu_count() or 1
    args.threads = [int(t) for t in args.threads.split(",")] if args.threads else sorted({1, n_all})
    if args.child:
        return child(args)

    import pynn
    from pynn import _core

    peaks, peak_isa = measure_peak()

    def run_child(lib, env, threads, reps):
        cmd = [sys.executable, "-P", os.path.abspath(__file__), "--child", lib, "--reps",
               str(reps), "--threads", ",".join(map(str, threads))] + \
              (["--quick"] if args.quick else [])
        return json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True,
                                         check=True).stdout)

    def median_time(runs, key):
        return float(np.median([t for r in runs for t in r["times"][key]]))

    clean = None
    set_vars = {v: os.environ[v] for v in OB_VARS if v in os.environ}
    if set_vars:
        clean = run_child("numpy", {k: v for k, v in os.environ.items() if k not in OB_VARS},
                          args.threads, args.reps)
    multi = [t for t in args.threads if t > 1]
    apart = {"pynn": [], "numpy": []}          # the interleaved child rounds
    per_round = max(1, -(-args.reps // args.rounds))
    for r in range(args.rounds if multi else 0):
        for lib in ("pynn", "numpy") if r % 2 == 0 else ("numpy", "pynn"):
            apart[lib].append(run_child(lib, dict(os.environ), multi, per_round))

    print(f"pynn {pynn.__version__}, kernel {_core.kernel_name()} (available: "
          f"{','.join(_core.kernel_list())}); numpy {np.__version__}")
    print(f"OpenBLAS kernel as run here: {openblas_kernel()}; env: "
          f"{set_vars if set_vars else 'OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE not set'}")
    if clean:
        print(f"OpenBLAS kernel with both unset (numpy* column): {clean['kernel']}")
    print(f"FMA peak (bench/peak, {peak_isa}): " + ", ".join(
        f"{k} {nt} thr {v:.1f} GFLOP/s" for (k, nt), v in sorted(peaks.items())))
    print(f"medians of {args.reps} samples (each >= 20 ms), interleaved with NumPy at 1 thread; "
          f"at more threads {args.rounds} interleaved rounds of child processes, "
          f"{per_round} samples each\n")

    ours = {}
    for nt in args.threads:
        print(f"== {nt} thread{'s' if nt > 1 else ''} ==")
        hdr = f"{'shape':34s} {'dt':3s} {'m':>5s} {'n':>5s} {'k':>5s} {'pynn':>7s} {'%peak':>6s} " \
              f"{'numpy':>7s}" + (f" {'numpy*':>7s}" if clean else "") + f" {'ratio':>6s}"
        if nt > 1:
            hdr += f" {'x1thr':>6s}"
        print(hdr + "   (GFLOP/s; ratio = pynn / faster numpy)")
        for label, ta, tb, m, n, k, dt in shapes(args.quick):
            key = f"{nt}|{label}|{dt}"
            if nt == 1:
                A, B, C = operands(ta, tb, m, n, k, dt)
                fp, fn = pynn_fn(ta, tb, A, B, C, nt), numpy_fn(ta, tb, A, B, C)
                with threadpool_limits(nt):
                    rp, rn = calls_for(fp), calls_for(fn)
                    tp, tn = [], []
                    for _ in range(args.reps):
                        tp.append(sample(fp, rp))
                        tn.append(sample(fn, rn))
            else:
                tp, tn = [median_time(apart["pynn"], key)], [median_time(apart["numpy"], key)]
            flop = 2.0 * m * n * k
            gp, gn = flop / np.median(tp) / 1e9, flop / np.median(tn) / 1e9
            best_np = gn
            peak = peaks[("f" + dt[-2:], 1)] * min(nt, n_all)   # per-core peak x cores used
            row = f"{label:34s} {dt[-2:]:3s} {m:5d} {n:5d} {k:5d} {gp:7.1f} " \
                  f"{100 * gp / peak:6.1f} {gn:7.1f}"
            if clean:
                gc = flop / median_time([clean], key) / 1e9
                best_np = max(gn, gc)
                row += f" {gc:7.1f}"
            row += f" {gp / best_np:6.2f}"
            ours[(nt, label, dt)] = gp
            if nt > 1 and (1, label, dt) in ours:
                row += f" {gp / ours[(1, label, dt)]:6.2f}"
            print(row, flush=True)
        print()


if __name__ == "__main__":
    main()
