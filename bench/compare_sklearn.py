"""Digits: pynn.sklearn.MLPClassifier against sklearn.neural_network.MLPClassifier.

Same data split, architecture and solver settings (hidden (100,), relu, adam,
lr 1e-3, batch min(200, n), alpha 1e-4, max_iter 200, tol 1e-4,
n_iter_no_change 10), several seeds, both measured in this one run,
interleaved so that machine load hits both alike. Prints test accuracy and
fit wall time per seed, then the mean accuracy and the median time (robust to
bursts of load on a shared machine).

    python bench/compare_sklearn.py [--seeds 5]
"""
import argparse
import statistics
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from threadpoolctl import threadpool_info

import pynn
from pynn.datasets import load_digits
from pynn.sklearn import MLPClassifier as PynnMLP

SETTINGS = dict(hidden_layer_sizes=(100,), activation="relu", solver="adam", alpha=1e-4,
                batch_size="auto", learning_rate_init=1e-3, max_iter=200, tol=1e-4,
                n_iter_no_change=10)


def measure(cls, seed, data):
    X_train, X_test, y_train, y_test = data
    clf = cls(random_state=seed, **SETTINGS)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    seconds = time.perf_counter() - t0
    return clf.score(X_test, y_test), seconds, clf.n_iter_


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    X, y = load_digits()
    data = train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)
    info = pynn.info()
    blas = ", ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in threadpool_info()
                     if p["user_api"] == "blas")
    print(f"digits: {len(data[0])} train / {len(data[1])} test; settings {SETTINGS}")
    print(f"pynn {info['version']}: kernel {info['kernel']}, {info['threads']} threads, float32; "
          f"scikit-learn: float64, BLAS {blas}")
    print(f"{'seed':>4}  {'library':<12} {'accuracy':>8}  {'fit s':>7}  {'epochs':>6}")
    results = {"scikit-learn": [], "pynn": []}
    for seed in range(args.seeds):
        for name, cls in (("scikit-learn", SklearnMLP), ("pynn", PynnMLP)):
            acc, seconds, epochs = measure(cls, seed, data)
            results[name].append((acc, seconds))
            print(f"{seed:>4}  {name:<12} {acc:>8.2%}  {seconds:>7.3f}  {epochs:>6}", flush=True)
    print()
    means = {}
    for name, rows in results.items():
        acc = statistics.mean(a for a, _ in rows)
        sec = statistics.median(s for _, s in rows)
        means[name] = (acc, sec)
        print(f"mean/median {name:<12} {acc:>8.2%}  {sec:>7.3f}")
    (acc_sk, sec_sk), (acc_pn, sec_pn) = means["scikit-learn"], means["pynn"]
    print(f"\npynn - scikit-learn: accuracy {100 * (acc_pn - acc_sk):+.2f} points, "
          f"wall time x{sec_pn / sec_sk:.2f} ({sec_sk / sec_pn:.1f}x faster)")


if __name__ == "__main__":
    main()
