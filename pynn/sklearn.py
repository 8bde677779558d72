"""scikit-learn estimators trained by pynn: MLPRegressor and MLPClassifier.

They take scikit-learn's MLP parameter names and follow its training rules
(mini-batches of min(200, n) rows by default, stopping when the training loss,
or with early_stopping the validation score, has not improved by `tol` for
`n_iter_no_change` epochs), but every mini-batch is one pynn train_step (one
C call, OpenMP threads). scikit-learn (>= 1.6) is needed only to import this
module.

Mapping of the maths. scikit-learn minimizes, per mini-batch of B rows,
``data_loss + alpha / (2 B) * sum(W**2)`` (weights only), where data_loss is
half the mean squared error (regression) or the mean log-loss
(classification). pynn's MSE is mean((Y - T)**2) over rows and outputs, i.e.
c = 2 / n_outputs times scikit-learn's gradient scale (c = 1 for the
cross-entropy). So the optimizers get weight_decay = c * alpha / B, and SGD
gets lr = learning_rate_init / c, Adam eps = epsilon * c: the same updates as
scikit-learn's up to rounding, except that B is the nominal batch size (the
epoch's last, shorter batch gets the nominal decay). ``loss_curve_`` is in
scikit-learn's units, penalty included (taken with the weights at the end of
each epoch). Classification always uses a softmax output (two units for two
classes), where scikit-learn uses one logistic unit: the same model family,
a different parametrization.
"""
import io
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as err:
    raise ImportError("pynn.sklearn needs scikit-learn >= 1.6: pip install 'pynn-mlp[sklearn]'"
                      ) from err

from . import _validate as v
from . import io as pynn_io
from .mlp import MLP
from .optim import SGD, Adam
from .training import fit as pynn_fit, forward_chunked

_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_SEED_RANGE = 2**31 - 1


class _Convergence:
    """scikit-learn's stopping rule as a pynn fit callback: after each epoch it
    records the loss (and validation score) on the estimator, and returns False
    once `n_iter_no_change` epochs in a row improved less than `tol`; with a
    validation set it keeps a copy of the best-scoring weights."""

    def __init__(self, est, net, n_train, n_batches, validation):
        self.est, self.net, self.validation = est, net, validation
        self.n_train = n_train
        self.penalty_scale = 0.5 * est.alpha * n_batches / n_train
        self.best_params = net.params.copy() if validation is not None else None

    def __call__(self, record):
        est, net = self.est, self.net
        squares = sum(float(np.dot(w.ravel(), w.ravel())) for w in net.weights)
        est.loss_curve_.append(est._sklearn_loss(record["loss"]) + self.penalty_scale * squares)
        est.n_iter_ += 1
        est.t_ += self.n_train
        if self.validation is None:
            last = est.loss_curve_[-1]
            improved = last <= est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, last)
        else:
            last = est._score_net(net, *self.validation)
            est.validation_scores_.append(last)
            improved = last >= est.best_validation_score_ + est.tol
            if last > est.best_validation_score_:
                est.best_validation_score_ = last
                np.copyto(self.best_params, net.params)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        return est._no_improvement_count <= est.n_iter_no_change


class _BaseMLP(BaseEstimator):
    """Shared parameters, validation, training and pickling; subclasses say how
    targets become network outputs."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, early_stopping=False,
                 validation_fraction=0.1, momentum=0.9, nesterovs_momentum=True, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, dtype=np.float32):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype

    # ------------------------------------------------------------ parameters

    def _check_params(self):
        """Validates the parameters (at fit, as scikit-learn does); returns the hidden sizes."""
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.ndim(sizes) == 0 else list(sizes)
        sizes = [v.positive_int(s, "hidden_layer_sizes[%d]" % i) for i, s in enumerate(sizes)]
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got "
                             f"{self.activation!r}")
        if self.solver not in ("adam", "sgd"):
            raise ValueError(f"solver must be 'adam' or 'sgd' (pynn has no 'lbfgs'), got "
                             f"{self.solver!r}")
        if not (self.batch_size == "auto" or isinstance(self.batch_size, (int, np.integer))):
            raise ValueError(f"batch_size must be 'auto' or an int, got {self.batch_size!r}")
        v.finite_float(self.alpha, "alpha", lo=0.0)
        v.finite_float(self.learning_rate_init, "learning_rate_init", lo=0.0, lo_open=True)
        v.positive_int(self.max_iter, "max_iter")
        v.finite_float(self.tol, "tol", lo=0.0)
        v.finite_float(self.validation_fraction, "validation_fraction", lo=0.0, hi=1.0,
                       lo_open=True, hi_open=True)
        v.finite_float(self.momentum, "momentum", lo=0.0, hi=1.0, hi_open=True)
        v.finite_float(self.beta_1, "beta_1", lo=0.0, hi=1.0, hi_open=True)
        v.finite_float(self.beta_2, "beta_2", lo=0.0, hi=1.0, hi_open=True)
        v.finite_float(self.epsilon, "epsilon", lo=0.0, lo_open=True)
        v.positive_int(self.n_iter_no_change, "n_iter_no_change")
        v.dtype_arg(self.dtype)
        return sizes

    def _batch(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        if not 1 <= self.batch_size <= n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going "
                          "to be clipped")
        return int(np.clip(self.batch_size, 1, n))

    def _optimizer(self, net, batch):
        c = self._gradient_scale(net)
        decay = c * self.alpha / batch
        if self.solver == "adam":
            return Adam(lr=self.learning_rate_init, betas=(self.beta_1, self.beta_2),
                        eps=self.epsilon * c, weight_decay=decay)
        return SGD(lr=self.learning_rate_init / c, momentum=self.momentum,
                   nesterov=self.nesterovs_momentum and self.momentum > 0, weight_decay=decay)

    # ------------------------------------------------------------ training

    def _fit(self, X, y, incremental, classes=None):
        sizes = self._check_params()
        first = not (incremental and hasattr(self, "_net"))
        X, y = validate_data(self, X, y, reset=first, dtype=v.dtype_arg(self.dtype),
                             multi_output=True, y_numeric=not self._classifies)
        T = self._targets(y, first, incremental, classes)
        if first:
            self._rng = check_random_state(self.random_state)
            n_out = self._n_network_outputs(T)
            self._net = MLP([X.shape[1], *sizes, n_out], activation=_ACTIVATIONS[self.activation],
                            loss=self._loss, dtype=self.dtype,
                            seed=int(self._rng.randint(_SEED_RANGE)))
            self._opt = None
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
            self._no_improvement_count = 0
            self.n_outputs_ = n_out
            self.n_layers_ = len(sizes) + 2
            self.out_activation_ = self._net.output
        net = self._net
        early_stopping = self.early_stopping and not incremental
        if not incremental:
            self.best_loss_ = None if early_stopping else np.inf
            self.validation_scores_ = [] if early_stopping else None
            self.best_validation_score_ = -np.inf if early_stopping else None
        else:
            if first:
                self.validation_scores_ = self.best_validation_score_ = None
            if getattr(self, "best_loss_", None) is None:   # also after fit(early_stopping=True)
                self.best_loss_ = np.inf
        validation = None
        if early_stopping:
            stratify = T if self._classifies else None
            X, X_val, T, T_val = train_test_split(X, T, random_state=self._rng, stratify=stratify,
                                                  test_size=self.validation_fraction)
            validation = (X_val, T_val)
        batch = self._batch(X.shape[0])
        if self._opt is None:
            self._opt = self._optimizer(net, batch)
        tracker = _Convergence(self, net, X.shape[0], -(-X.shape[0] // batch), validation)
        history = pynn_fit(net, X, T, epochs=1 if incremental else self.max_iter,
                           batch_size=batch, optimizer=self._opt, shuffle=self.shuffle,
                           callbacks=(tracker,), progress=bool(self.verbose),
                           seed=int(self._rng.randint(_SEED_RANGE)), train_accuracy=False)
        if early_stopping:
            net.params[...] = tracker.best_params
        if not incremental and history.stop_reason == "completed":
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                          "the optimization hasn't converged yet.", ConvergenceWarning)
        return self

    def fit(self, X, y):
        """Trains a new network on (X, y), up to max_iter epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False)

    def _forward(self, X):
        check_is_fitted(self, "_net")
        X = validate_data(self, X, reset=False, dtype=v.dtype_arg(self.dtype))
        return forward_chunked(self._net, X)

    @property
    def coefs_(self):
        """Weight matrices, one (n_in, n_out) per layer: writable views into the network."""
        check_is_fitted(self, "_net")
        return list(self._net.weights)

    @property
    def intercepts_(self):
        """Bias vectors, one per layer: writable views into the network."""
        check_is_fitted(self, "_net")
        return list(self._net.biases)

    # ------------------------------------------------------------ pickling

    def __getstate__(self):
        state = dict(super().__getstate__())   # object.__getstate__ gives __dict__ itself
        if "_net" in state:   # the C network and the optimizer travel as one pynn .npz
            buf = io.BytesIO()
            pynn_io.save(state.pop("_net"), buf, optimizer=state["_opt"])
            state["_net"] = buf.getvalue()
            state["_opt"] = type(state["_opt"])
        return state

    def __setstate__(self, state):
        if "_net" in state:
            optimizer = state["_opt"]()
            state["_net"] = pynn_io.load(io.BytesIO(state["_net"]), optimizer=optimizer)
            state["_opt"] = optimizer
        super().__setstate__(state)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor trained by pynn (mean squared error, identity output).

    Parameters are scikit-learn's (see sklearn.neural_network.MLPRegressor),
    minus the lbfgs solver and the learning_rate/power_t options, plus
    `dtype`: the network's float32 (default) or float64. Predictions are
    float64; 1-D when y was 1-D.

    Attributes
    ----------
    loss_curve_ : list of float
        Per epoch: half the mean squared error (+ L2 penalty), scikit-learn's units.
    n_iter_ : int
        Epochs run.
    validation_scores_ : list of float or None
        R^2 on the held-out fraction per epoch (early_stopping only).
    best_validation_score_, best_loss_ : float or None
    coefs_, intercepts_ : list of ndarray
    n_features_in_, n_outputs_, n_layers_, out_activation_, t_
    """

    _classifies = False
    _loss = "mse"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @staticmethod
    def _gradient_scale(net):
        return 2.0 / net.n_outputs

    @staticmethod
    def _sklearn_loss(loss):
        return 0.5 * loss   # scikit-learn's squared error is half the mean square

    def _targets(self, y, first, incremental, classes):
        T = y.reshape(-1, 1) if y.ndim == 1 else y
        if not first and T.shape[1] != self._net.n_outputs:
            raise ValueError(f"y has {T.shape[1]} outputs, but the network was fitted with "
                             f"{self._net.n_outputs}")
        return T

    @staticmethod
    def _n_network_outputs(T):
        return T.shape[1]

    @staticmethod
    def _score_net(net, X, T):
        return r2_score(T, forward_chunked(net, X).astype(np.float64))

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing from the current network and optimizer state.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predictions, float64: (n_samples,) for one output, else (n_samples, n_outputs)."""
        Y = self._forward(X).astype(np.float64)
        return Y.ravel() if Y.shape[1] == 1 else Y


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier trained by pynn (softmax output, cross-entropy).

    Parameters are scikit-learn's (see sklearn.neural_network.MLPClassifier),
    minus the lbfgs solver and the learning_rate/power_t options, plus
    `dtype`: the network's float32 (default) or float64. Single-label targets
    only (binary or multiclass; any labels: ints, strings, ...).

    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted.
    loss_curve_ : list of float
        Per epoch: the mean log-loss (+ L2 penalty), scikit-learn's units.
    n_iter_ : int
        Epochs run.
    validation_scores_ : list of float or None
        Accuracy on the held-out fraction (stratified) per epoch (early_stopping only).
    best_validation_score_, best_loss_ : float or None
    coefs_, intercepts_ : list of ndarray
    n_features_in_, n_outputs_, n_layers_, out_activation_, t_
    """

    _classifies = True
    _loss = "cross_entropy"

    @staticmethod
    def _gradient_scale(net):
        return 1.0

    @staticmethod
    def _sklearn_loss(loss):
        return loss

    def _targets(self, y, first, incremental, classes):
        if np.ndim(y) == 2 and np.shape(y)[1] != 1:
            raise ValueError("MLPClassifier takes one label per sample; multilabel and "
                             "multioutput targets are not supported")
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first:
            if incremental and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            if self.classes_.size < 2:
                raise ValueError(f"MLPClassifier needs samples of at least 2 classes, got 1 class: "
                                 f"{self.classes_[0]!r}")
        labels = np.searchsorted(self.classes_, y)
        labels[labels == self.classes_.size] = 0   # beyond the last class: unknown, caught below
        unknown = self.classes_[labels] != y
        if unknown.any():
            raise ValueError(f"y holds labels not in classes_ {self.classes_.tolist()}: "
                             f"{np.unique(y[unknown]).tolist()}")
        return labels.astype(np.int64)

    def _n_network_outputs(self, T):
        return self.classes_.size

    @staticmethod
    def _score_net(net, X, labels):
        return float(np.mean(np.argmax(forward_chunked(net, X), axis=1) == labels))

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing from the current network and optimizer state.

        Parameters
        ----------
        classes : array-like, optional
            Every class label; needed on the first call when y does not show
            them all.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities, float64 of shape (n_samples, n_classes), columns as classes_."""
        return self._forward(X).astype(np.float64)

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each sample."""
        proba = self._forward(X)
        return self.classes_[np.argmax(proba, axis=1)]
