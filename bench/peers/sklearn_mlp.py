"""scikit-learn's MLPRegressor.partial_fit: one mini-batch SGD step per call.

MLPRegressor(hidden_layer_sizes=sizes[1:-1], activation="relu", solver="sgd",
learning_rate_init=lr, momentum=0, alpha=0, batch_size=batch).partial_fit(X, y), reported
as is. It does more than the other peers each call: input validation, an index shuffle,
the (zero-weighted) L2 term over all weights, per-call bookkeeping; its squared loss is
0.5 * mean((Y-T)^2) and its output delta is (Y-T) / batch, i.e. its gradient is n_out/2
times the MSE gradient (its own definition, not a bug). It keeps float32 for float32 X.

Initial weights: a first partial_fit creates the arrays, then compare.py's initial
weights are copied INTO them (the optimizer holds references to those arrays), so every
peer starts from the same point. For the correctness check only, the first two steps
use learning rate lr * 2 / n_out (the same update as the MSE peers); the optimizer's
learning rate is then set back to lr for everything that is timed.
Threads: NumPy/SciPy BLAS via OPENBLAS_NUM_THREADS and threadpoolctl."""
import warnings

NAME = "sklearn"
MODULES = ("sklearn",)
BLAS_SENSITIVE = True


def version():
    import sklearn
    return sklearn.__version__


class Runner:
    def __init__(self, case):
        from sklearn.neural_network import MLPRegressor
        warnings.simplefilter("ignore")          # ConvergenceWarning etc. on each call
        self.X = case.X
        self.y = case.T.ravel() if case.sizes[-1] == 1 else case.T
        self.lr = case.lr
        self.m = MLPRegressor(hidden_layer_sizes=tuple(case.sizes[1:-1]), activation="relu",
                              solver="sgd", learning_rate_init=case.lr, momentum=0.0,
                              alpha=0.0, batch_size=case.batch)
        self.m.partial_fit(self.X, self.y)       # creates coefs_ / intercepts_ / _optimizer
        for c, w in zip(self.m.coefs_, case.weights):
            c[...] = w
        for c, b in zip(self.m.intercepts_, case.biases):
            c[...] = b
        self.check_steps = 2
        self.m._optimizer.learning_rate = case.lr * 2.0 / case.sizes[-1]

    def step(self):
        self.m.partial_fit(self.X, self.y)
        if self.check_steps:
            self.check_steps -= 1
            if not self.check_steps:
                self.m._optimizer.learning_rate = self.lr
        return self.m.loss_

    def loss(self, handle):
        return 2.0 * float(handle)               # its loss is 0.5 * MSE

    def forward(self):
        self.out = self.m.predict(self.X)

    def sync(self):
        pass

    def notes(self):
        from .numpy_textbook import blas_notes
        n = blas_notes()
        n["dtype"] = str(self.m.coefs_[0].dtype)
        return n


def build(case):
    return Runner(case)
