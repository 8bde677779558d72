"""pynn: the library under test, used as its README shows.

net = pynn.MLP(sizes, activation="relu", dtype=np.float32, seed=0); opt = pynn.SGD(lr);
net.train_step(X, T, opt) (forward + MSE + backprop + update in one C call);
net.forward(X, out=buf) with a preallocated output. Threads: pynn.set_num_threads(n)
(OMP_NUM_THREADS is set to the same value by compare.py)."""
import numpy as np

NAME = "pynn"
MODULES = ("pynn",)
BLAS_SENSITIVE = False


def version():
    import pynn
    return pynn.__version__


class Runner:
    def __init__(self, case):
        import pynn
        self.pynn = pynn
        pynn.set_num_threads(case.threads)
        # compare.py's initial weights are pynn's own MLP(seed=0), so build from the seed
        # (no copy: keeps the --memory figure to what a user's program would hold).
        self.net = pynn.MLP(case.sizes, activation="relu", dtype=np.float32, seed=case.seed)
        if case.weights:                        # a non-pynn init was supplied: use it
            for w, w0 in zip(self.net.weights, case.weights):
                w[...] = w0
            for b, b0 in zip(self.net.biases, case.biases):
                b[...] = b0
        self.opt = pynn.SGD(lr=case.lr)
        self.X, self.T = case.X, case.T
        self.out = np.empty((case.batch, case.sizes[-1]), np.float32)

    def step(self):
        return self.net.train_step(self.X, self.T, self.opt)

    def loss(self, handle):
        return float(handle)

    def forward(self):
        self.net.forward(self.X, out=self.out)

    def sync(self):
        pass

    def notes(self):
        info = {"threads": self.pynn.get_num_threads()}
        try:
            got = self.pynn.info()
            if isinstance(got, dict):
                for k in ("kernel", "gemm_kernel", "openmp", "simd"):
                    if k in got:
                        info[k] = got[k]
        except Exception:
            pass
        return info


def build(case):
    return Runner(case)
