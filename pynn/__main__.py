"""Command line: python -m pynn demo | info | bench.

demo  trains a classifier on the UCI digits shipped with pynn and a regression
      on a generated function, with progress, then prints test accuracy, loss
      and throughput. Needs nothing but pynn.
info  prints version, build, GEMM kernel, OpenMP runtime and threads.
bench runs the multicore speedup benchmark (threads 1..N): a table, and a
      PNG plot when matplotlib is installed.
"""
import argparse
import sys
import time

import numpy as np

from . import MLP, Adam, info, num_threads
from .datasets import load_digits, train_test_split


def say(text):
    """print, flushed at once so that it stays in order with the progress lines on stderr."""
    print(text, flush=True)


def _mean_rate(history):
    rates = history.samples_per_s
    return sum(rates) / len(rates)


def _demo_digits(seed, progress):
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_fraction=0.25, seed=seed)
    net = MLP([64, 128, 64, 10], activation="relu", loss="cross_entropy", seed=seed)
    say(f"\n[1/2] classification: UCI 8x8 digits, {len(X_train)} train / {len(X_test)} test "
          f"images, {net}")
    hist = net.fit(X_train, y_train, epochs=40, batch_size=32, optimizer=Adam(lr=2e-3),
                   validation_split=0.1, early_stopping=True, patience=8, lr_schedule="cosine",
                   progress=progress, seed=seed)
    test_loss = net.loss(X_test, y_test)
    test_acc = np.mean(np.argmax(net.forward(X_test), axis=1) == y_test)
    say(f"      epochs run {len(hist)} ({hist.stop_reason}), best epoch {hist.best_epoch + 1}, "
          f"weights restored from it")
    say(f"      test accuracy {test_acc:.2%}   test loss {test_loss:.4f}   "
          f"training {_mean_rate(hist):,.0f} samples/s")


def _demo_regression(seed, progress):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(6000, 3))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]) + 0.5 * X[:, 2] ** 2
    y += 0.05 * rng.standard_normal(len(y))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=seed)
    net = MLP([3, 64, 64, 1], activation="tanh", seed=seed)
    say(f"\n[2/2] regression: y = sin(3 x0) cos(2 x1) + x2^2 / 2 + noise(0.05), "
          f"{len(X_train)} train / {len(X_test)} test samples, {net}")
    hist = net.fit(X_train, y_train, epochs=60, batch_size=64, optimizer=Adam(lr=3e-3),
                   validation_data=(X_test, y_test), lr_schedule="cosine", progress=progress,
                   seed=seed)
    mse = net.loss(X_test, y_test)
    r2 = 1.0 - mse / np.var(y_test)
    say(f"      test MSE {mse:.5f} (noise floor {0.05 ** 2:.5f})   R^2 {r2:.4f}   "
          f"training {_mean_rate(hist):,.0f} samples/s")


def demo(args):
    t0 = time.perf_counter()
    with num_threads(args.threads):
        facts = info()
        say(f"pynn {facts['version']} demo: {facts['threads']} thread(s), kernel "
              f"{facts['kernel']}, OpenMP {facts['openmp_runtime']}")
        _demo_digits(args.seed, not args.no_progress)
        _demo_regression(args.seed, not args.no_progress)
    say(f"\ndone in {time.perf_counter() - t0:.1f} s")


def show_info(args):
    facts = info()
    width = max(map(len, facts))
    for key, value in facts.items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value))
        print(f"{key:<{width}}  {value}")


def bench(args):
    from ._speedup import run_speedup
    sizes = tuple(int(s) for s in args.sizes.split(","))
    run_speedup(sizes=sizes, batch=args.batch, max_threads=args.max_threads,
                seconds=args.seconds, path=None if args.no_plot else args.plot)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pynn", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="train on the shipped digits and on a generated regression")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    p.set_defaults(run=demo)
    p = sub.add_parser("info", help="version, build, kernel, OpenMP runtime, threads")
    p.set_defaults(run=show_info)
    p = sub.add_parser("bench", help="multicore speedup of train_step, threads 1..N")
    p.add_argument("--max-threads", type=int, default=None, help="N (default: all cores)")
    p.add_argument("--sizes", default="784,256,256,10", help="layer sizes (default %(default)s)")
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--seconds", type=float, default=1.0, help="measuring time per thread count")
    p.add_argument("--plot", default="pynn_speedup.png", help="PNG path (default %(default)s)")
    p.add_argument("--no-plot", action="store_true")
    p.set_defaults(run=bench)
    args = parser.parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
