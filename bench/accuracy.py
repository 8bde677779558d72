"""Largest errors of pynn against the pure-NumPy float64 reference
(tests/numpy_ref.py), over the random architectures of tests/test_mlp.py, and
of backpropagation against finite differences. Run: python bench/accuracy.py"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import numpy_ref as ref                                    # noqa: E402
from test_gradcheck import CASES, numerical_gradient        # noqa: E402
from test_mlp import net_params64, random_case              # noqa: E402

import pynn                                                 # noqa: E402


def rel_err(got, want):
    """max |got - want| / max(|want|) over the array (normwise relative error)."""
    want = np.asarray(want, np.float64)
    return float(np.abs(np.asarray(got, np.float64) - want).max() / max(np.abs(want).max(), 1e-300))


def against_reference(dtype, n_cases=40):
    worst = {"forward": 0.0, "loss": 0.0, "gradient": 0.0}
    for seed in range(n_cases):
        net, X, T, T_ref = random_case(seed, dtype)
        Ws, bs = net_params64(net)
        Xc = X.astype(dtype).astype(np.float64)
        A, _ = ref.forward(Ws, bs, net.activations, Xc, net.leaky_slope)
        L_ref, dW, db = ref.loss_and_grads(Ws, bs, net.activations, net.loss_name, Xc, T_ref,
                                           net.leaky_slope)
        L, g = net.gradients(X, T)
        g_ref = np.concatenate([np.r_[w.ravel(), b] for w, b in zip(dW, db)])
        worst["forward"] = max(worst["forward"], rel_err(net.forward(X), A[-1]))
        worst["loss"] = max(worst["loss"], abs(L - L_ref) / max(abs(L_ref), 1e-300))
        worst["gradient"] = max(worst["gradient"], rel_err(g.params, g_ref))
    return worst


def against_finite_differences():
    worst = 0.0
    for act, loss, output in CASES:
        rng = np.random.default_rng(0)
        net = pynn.MLP([4, 6, 5, 3], activation=act, output=output, loss=loss, dtype=np.float64,
                       seed=7, leaky_slope=0.1)
        X = rng.normal(size=(7, 4))
        T = rng.integers(0, 3, 7) if loss == "cross_entropy" else rng.normal(size=(7, 3))
        _, g = net.gradients(X, T)
        worst = max(worst, rel_err(g.params, numerical_gradient(net, X, T)))
    return worst


if __name__ == "__main__":
    print(f"pynn {pynn.__version__}, kernel {pynn.info()['kernel']}; errors are max|err| / max|ref|")
    for dtype in (np.float32, np.float64):
        w = against_reference(dtype)
        print(f"{np.dtype(dtype).name:8s} vs NumPy float64 reference (40 random networks): "
              + ", ".join(f"{k} {v:.2e}" for k, v in w.items()))
    print(f"float64  vs 4th-order finite differences ({len(CASES)} activation/loss cases): "
          f"gradient {against_finite_differences():.2e}")
