"""pynn.sklearn: scikit-learn's own estimator checks, the parameter mapping, and the
fitted attributes. Skipped when scikit-learn is not installed."""
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from pynn.datasets import load_digits, train_test_split  # noqa: E402
from pynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# Every check scikit-learn runs; none is skipped by us. scikit-learn itself skips
# check_array_api_input unless SCIPY_ARRAY_API=1 (and we do not claim array-API
# support), and the pandas checks when pandas is missing.
ESTIMATORS = [MLPRegressor(max_iter=100), MLPClassifier(max_iter=100)]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ the mapping

def one_sgd_step(est, X, y):
    """Two partial_fits with one full batch each: returns (weights before, after) the second."""
    est.partial_fit(X, y, **({"classes": np.unique(y)} if hasattr(est, "predict_proba") else {}))
    before = [w.astype(np.float64) for w in est.coefs_] + [b.astype(np.float64)
                                                          for b in est.intercepts_]
    est.partial_fit(X, y)
    return before, est.coefs_ + est.intercepts_


def test_sgd_regression_step_is_scikit_learns():
    """scikit-learn's update for half squared error + alpha/(2B)|W|^2: W -= lr (X^T (Y-T) + alpha W)/B."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(30, 4)), rng.normal(size=(30, 2))
    est = MLPRegressor(hidden_layer_sizes=(), solver="sgd", momentum=0.0, alpha=0.7,
                       learning_rate_init=0.05, batch_size=30, shuffle=False, dtype=np.float64,
                       random_state=0)
    (W, b), (W1, b1) = one_sgd_step(est, X, Y)
    D = X @ W + b - Y
    assert np.allclose(W1, W - 0.05 * (X.T @ D + 0.7 * W) / 30, rtol=1e-12, atol=1e-14)
    assert np.allclose(b1, b - 0.05 * D.mean(axis=0), rtol=1e-12, atol=1e-14)


def test_sgd_classification_step_is_scikit_learns():
    """Log-loss: the same update with deltas = softmax(XW + b) - onehot(y)."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    est = MLPClassifier(hidden_layer_sizes=(), solver="sgd", momentum=0.0, alpha=0.7,
                        learning_rate_init=0.05, batch_size=30, shuffle=False, dtype=np.float64,
                        random_state=0)
    (W, b), (W1, b1) = one_sgd_step(est, X, y)
    Z = X @ W + b
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    D = P / P.sum(axis=1, keepdims=True) - np.eye(3)[y]
    assert np.allclose(W1, W - 0.05 * (X.T @ D + 0.7 * W) / 30, rtol=1e-12, atol=1e-14)
    assert np.allclose(b1, b - 0.05 * D.mean(axis=0), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ behaviour

@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return train_test_split(X / 16.0, y, test_fraction=0.25, seed=0)


def test_classifier_learns_digits_and_reports_like_scikit_learn(digits):
    X_train, X_test, y_train, y_test = digits
    labels = np.array(list("abcdefghij"))   # any labels, not just 0..k-1
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        clf.fit(X_train, labels[y_train])
    assert clf.score(X_test, labels[y_test]) > 0.93
    assert list(clf.classes_) == list(labels) and clf.n_iter_ == len(clf.loss_curve_) == 30
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] and clf.validation_scores_ is None
    assert clf.t_ == 30 * len(X_train) and clf.best_loss_ == min(clf.loss_curve_)
    proba = clf.predict_proba(X_test)
    assert proba.dtype == np.float64 and np.allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert np.array_equal(clf.predict(X_test), labels[proba.argmax(axis=1)])
    assert [w.shape for w in clf.coefs_] == [(64, 64), (64, 10)] and clf.n_layers_ == 3
    assert clf.out_activation_ == "softmax" and clf.n_features_in_ == 64


def test_stops_when_the_training_loss_stalls():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=500, tol=10.0, n_iter_no_change=4,
                       random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, X.sum(axis=1))
    assert reg.n_iter_ == 4 + 2   # epoch 1 sets best_loss_, then 5 epochs without a gain of tol


def test_early_stopping_scores_validation_and_keeps_the_best(digits):
    X_train, X_test, y_train, y_test = digits
    clf = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3,
                        tol=0.0, max_iter=300, learning_rate_init=0.05, random_state=0)
    clf.fit(X_train, y_train)
    assert clf.n_iter_ < 300 and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) and clf.best_loss_ is None
    assert clf.score(X_test, y_test) > 0.9
    clf.partial_fit(X_train, y_train)   # then continues on the training loss
    assert clf.best_loss_ == clf.loss_curve_[-1] and len(clf.validation_scores_) == clf.n_iter_ - 1


def test_partial_fit_continues_and_fit_starts_over():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    reg = MLPRegressor(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=1e-2)
    for _ in range(20):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 20 and reg.score(X, y) > 0.8
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, y > 0)
    clf = MLPClassifier(random_state=0).partial_fit(X[:5], (y > 0)[:5], classes=[False, True])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:5], np.full(5, 7))
    fresh = clone(reg).set_params(max_iter=3)
    with pytest.warns(ConvergenceWarning):
        fresh.fit(X, y)
        reg.set_params(max_iter=3).fit(X, y)
    assert reg.n_iter_ == 3 and np.array_equal(reg.predict(X), fresh.predict(X))


def test_pickle_keeps_predictions_and_optimizer_state():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    a = MLPRegressor(hidden_layer_sizes=(8,), random_state=0, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        a.fit(X, y)
    b = pickle.loads(pickle.dumps(a))
    assert b.predict(X).tobytes() == a.predict(X).tobytes() and a.predict(X).shape == (40, 2)
    a.partial_fit(X, y)
    b.partial_fit(X, y)   # same optimizer state and shuffle seed stream
    assert b.predict(X).tobytes() == a.predict(X).tobytes()


@pytest.mark.parametrize("params, match", [
    (dict(solver="lbfgs"), "solver"),
    (dict(activation="softplus"), "activation"),
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
    (dict(batch_size="big"), "batch_size"),
    (dict(alpha=-1.0), "alpha"),
    (dict(beta_1=1.0), "beta_1"),
    (dict(validation_fraction=1.0), "validation_fraction"),
    (dict(dtype=np.int32), "dtype"),
])
def test_bad_parameters_are_reported_at_fit(params, match):
    est = MLPRegressor(**params)   # constructing never fails
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(np.zeros((4, 2)), np.zeros(4))


def test_one_class_and_multilabel_are_refused():
    X = np.zeros((6, 2))
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier().fit(X, np.ones(6))
    with pytest.raises(ValueError, match="multilabel"):
        MLPClassifier().fit(X, np.ones((6, 2), int))
