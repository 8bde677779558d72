"""Peers for bench/compare.py: one module per framework, each optional.

Every peer module defines

    NAME      the label used in tables and on the command line
    MODULES   the top-level packages it needs (checked with importlib.util.find_spec
              by the parent, so an uninstalled peer is skipped without a process)
    BLAS_SENSITIVE  True when its speed comes from NumPy's BLAS (then compare.py
              also runs it with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset)
    version() -> str
    build(case) -> runner

`case` is a Case (below). The runner has

    step()          one training step: forward, MSE loss mean((Y-T)^2), backprop,
                    plain SGD update (lr = case.lr); returns a loss handle
    loss(handle)    the handle as a Python float (may synchronize)
    forward()       one inference pass on case.X (result kept by the runner)
    sync()          waits for all work issued so far (JAX's async dispatch); the
                    timed blocks end with it, so queued work is always counted
    notes()         dict of facts worth printing (BLAS kernel, compile mode, ...)

Peers never import each other and never import pynn (except the pynn peer), so a
worker process holds only the runtime it measures.
"""
import importlib
import os
from dataclasses import dataclass, field

import numpy as np

# Order = column order in the tables.
PEER_MODULES = {
    "pynn": "pynn_mlp",
    "numpy": "numpy_textbook",
    "torch": "torch_eager",
    "torch.compile": "torch_compiled",
    "jax": "jax_jit",
    "sklearn": "sklearn_mlp",
}


def load(name):
    return importlib.import_module(f"{__name__}.{PEER_MODULES[name]}")


@dataclass
class Case:
    """One measurement's inputs, shared bit for bit by every peer."""
    config: str
    batch: int
    sizes: list
    threads: int
    lr: float
    X: np.ndarray                      # (batch, sizes[0]) float32
    T: np.ndarray                      # (batch, sizes[-1]) float32
    weights: list = field(default_factory=list)   # W_l (n_in, n_out) float32, C order
    biases: list = field(default_factory=list)    # b_l (n_out,) float32
    init_source: str = ""              # "pynn seed=0" or "numpy he-uniform seed=0"
    seed: int = 0


def write_case_files(directory, batch, sizes, seed=0):
    """Writes X, T and the initial parameters as .npy files into `directory`.

    The initial parameters are pynn's own (MLP(seed=0)) when pynn imports, so every
    peer starts from exactly the weights pynn starts from and the first-step losses
    are comparable; otherwise a He-uniform init from NumPy's Generator.
    Returns the init source string."""
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    T = rng.standard_normal((batch, sizes[-1]), dtype=np.float32)
    np.save(os.path.join(directory, "X.npy"), X)
    np.save(os.path.join(directory, "T.npy"), T)
    try:
        import pynn
        net = pynn.MLP(sizes, activation="relu", dtype=np.float32, seed=seed)
        Ws = [np.ascontiguousarray(w) for w in net.weights]
        bs = [np.ascontiguousarray(b) for b in net.biases]
        source = f"pynn seed={seed}"
    except ImportError:
        Ws, bs = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            lim = np.sqrt(6.0 / n_in)
            Ws.append(rng.uniform(-lim, lim, (n_in, n_out)).astype(np.float32))
            bs.append(np.zeros(n_out, np.float32))
        source = f"numpy he-uniform seed={seed}"
    for i, (w, b) in enumerate(zip(Ws, bs)):
        np.save(os.path.join(directory, f"W{i}.npy"), w)
        np.save(os.path.join(directory, f"b{i}.npy"), b)
    with open(os.path.join(directory, "source.txt"), "w") as f:
        f.write(source)
    return source


def read_case(directory, config, batch, sizes, threads, lr, with_params=True):
    """The Case stored by write_case_files. with_params=False leaves the weight lists
    empty (the pynn peer rebuilds them from the seed, which costs no extra memory)."""
    j = os.path.join
    with open(j(directory, "source.txt")) as f:
        source = f.read().strip()
    case = Case(config, batch, list(sizes), threads, lr,
                np.load(j(directory, "X.npy")), np.load(j(directory, "T.npy")),
                init_source=source)
    if with_params:
        for i in range(len(sizes) - 1):
            case.weights.append(np.load(j(directory, f"W{i}.npy")))
            case.biases.append(np.load(j(directory, f"b{i}.npy")))
    return case
