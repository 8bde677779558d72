"""Same seed, same bits: trains a [300, 512, 256, 10] network for 30 steps at
1 and at 2 threads and prints a SHA-256 of the parameters. Run it twice: every
line must be identical across thread counts and across runs.
Run: python bench/determinism.py"""
import hashlib

import numpy as np

import pynn


def train(threads, steps=30, batch=128, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, 300)).astype(np.float32)
    T = rng.normal(size=(batch, 10)).astype(np.float32)
    net = pynn.MLP([300, 512, 256, 10], activation="relu", seed=seed)
    net.adaptive_threads = False                      # exactly `threads` threads
    opt = pynn.Adam(lr=1e-3)
    with pynn.num_threads(threads):
        for _ in range(steps):
            loss = net.train_step(X, T, opt)
    return hashlib.sha256(net.params.tobytes()).hexdigest(), loss, net.last_threads


if __name__ == "__main__":
    for threads in (1, 2):
        digest, loss, used = train(threads)
        print(f"threads={used}  loss after 30 steps={loss!r}  sha256(params)={digest}")
