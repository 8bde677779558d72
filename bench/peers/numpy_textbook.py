"""NumPy, written the textbook way by a careful user.

Forward: Z_l = A_{l-1} @ W_l + b_l, A_l = relu(Z_l) (identity on the last layer).
Backward: dY = 2 (Y - T) / (batch * n_out); dW_l = A_{l-1}^T dZ_l; db_l = sum_rows dZ_l;
dA_{l-1} = dZ_l W_l^T; dZ_{l-1} = dA_{l-1} * [A_{l-1} > 0]. Update: W -= lr dW, b -= lr db.

Every buffer (activations, deltas, gradients, the relu mask) is allocated once and every
product writes into it with np.matmul(..., out=) / ufunc out=, so a step allocates
nothing large; the GEMMs are NumPy's BLAS (OpenBLAS in the wheels). Threads: the BLAS
pool, set by OPENBLAS_NUM_THREADS and threadpoolctl in the worker. The first layer's
dA (dX) is not computed."""
import numpy as np

NAME = "numpy"
MODULES = ("numpy",)
BLAS_SENSITIVE = True


def version():
    return np.__version__


class Runner:
    def __init__(self, case):
        self.X, self.T = case.X, case.T
        self.lr = np.float32(case.lr)
        self.W = [np.ascontiguousarray(w, dtype=np.float32) for w in case.weights]
        self.b = [np.ascontiguousarray(b, dtype=np.float32) for b in case.biases]
        n, sizes = case.batch, case.sizes
        L = len(sizes) - 1
        self.L = L
        self.A = [None] + [np.empty((n, m), np.float32) for m in sizes[1:]]   # A[0] = X
        self.dZ = [None] + [np.empty((n, m), np.float32) for m in sizes[1:]]
        self.mask = [None] + [np.empty((n, m), bool) for m in sizes[1:-1]] + [None]
        self.gW = [np.empty_like(w) for w in self.W]
        self.gb = [np.empty_like(b) for b in self.b]
        self.scale = np.float32(2.0 / (n * sizes[-1]))
        self.inv_size = 1.0 / (n * sizes[-1])

    def _forward(self):
        A = self.A
        A[0] = self.X
        for l in range(1, self.L + 1):
            np.matmul(A[l - 1], self.W[l - 1], out=A[l])
            A[l] += self.b[l - 1]
            if l < self.L:
                np.maximum(A[l], 0, out=A[l])
        return A[self.L]

    def step(self):
        Y = self._forward()
        A, dZ, L = self.A, self.dZ, self.L
        d = dZ[L]
        np.subtract(Y, self.T, out=d)
        loss = float(np.vdot(d, d)) * self.inv_size
        d *= self.scale
        for l in range(L, 0, -1):
            gW, gb = self.gW[l - 1], self.gb[l - 1]
            np.matmul(A[l - 1].T, dZ[l], out=gW)
            np.sum(dZ[l], axis=0, out=gb)
            if l > 1:
                np.matmul(dZ[l], self.W[l - 1].T, out=dZ[l - 1])
                np.greater(A[l - 1], 0, out=self.mask[l - 1])
                np.multiply(dZ[l - 1], self.mask[l - 1], out=dZ[l - 1])
            gW *= self.lr
            self.W[l - 1] -= gW
            gb *= self.lr
            self.b[l - 1] -= gb
        return loss

    def loss(self, handle):
        return float(handle)

    def forward(self):
        self._forward()

    def sync(self):
        pass

    def notes(self):
        return blas_notes()


def blas_notes():
    """The BLAS libraries NumPy (and SciPy) loaded, as threadpoolctl reports them."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    libs = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')} "
            f"x{i.get('num_threads')}".replace("  ", " ")
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"blas": "; ".join(sorted(set(libs)))}


def build(case):
    return Runner(case)
