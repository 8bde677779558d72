"""The textbook maths of an MLP in plain NumPy float64: the reference every C
routine is checked against. Written for clarity, not speed."""
import numpy as np


def act(name, z, slope=0.01):
    if name == "identity":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(name)


def act_backward(name, a, da, slope=0.01):
    """dZ from dA for A = f(Z), written with the derivative in terms of Z's image A."""
    if name == "identity":
        return da
    if name == "sigmoid":
        return da * a * (1 - a)
    if name == "tanh":
        return da * (1 - a * a)
    if name == "relu":
        return da * (a > 0)
    if name == "leaky_relu":
        return np.where(a > 0, da, slope * da)
    if name == "softmax":
        return a * (da - (da * a).sum(axis=1, keepdims=True))
    raise ValueError(name)


def mse(Y, T):
    return float(np.mean((Y - T) ** 2))


def mse_grad(Y, T):
    return 2.0 * (Y - T) / Y.size


def one_hot(labels, n):
    T = np.zeros((labels.size, n))
    T[np.arange(labels.size), labels] = 1.0
    return T


def log_softmax(Z):
    m = Z.max(axis=1, keepdims=True)
    return Z - m - np.log(np.exp(Z - m).sum(axis=1, keepdims=True))


def cross_entropy(Z, T):
    return float(-(T * log_softmax(Z)).sum(axis=1).mean())


def cross_entropy_grad(Z, T):
    return (np.exp(log_softmax(Z)) * T.sum(axis=1, keepdims=True) - T) / Z.shape[0]


def forward(weights, biases, acts, X, slope=0.01):
    """All activations [A_0 = X, A_1, ..., A_L] and the output layer's logits Z_L."""
    A = [np.asarray(X, np.float64)]
    Z = None
    for W, b, f in zip(weights, biases, acts):
        Z = A[-1] @ W + b
        A.append(act(f, Z, slope))
    return A, Z


def loss_and_grads(weights, biases, acts, loss, X, T, slope=0.01):
    """(loss, dW list, db list) by backpropagation: last layer first, then the chain rule."""
    weights = [np.asarray(W, np.float64) for W in weights]
    biases = [np.asarray(b, np.float64) for b in biases]
    A, Z = forward(weights, biases, acts, X, slope)
    if loss == "mse":
        L = mse(A[-1], T)
        dZ = act_backward(acts[-1], A[-1], mse_grad(A[-1], T), slope)
    else:
        L = cross_entropy(Z, T)
        dZ = cross_entropy_grad(Z, T)
    dWs, dbs = [], []
    for l in range(len(weights) - 1, -1, -1):
        dWs.insert(0, A[l].T @ dZ)                       # dW_l = A_{l-1}^T dZ_l
        dbs.insert(0, dZ.sum(axis=0))                    # db_l = 1^T dZ_l
        if l > 0:
            dA = dZ @ weights[l].T                       # dA_{l-1} = dZ_l W_l^T
            dZ = act_backward(acts[l - 1], A[l], dA, slope)
    return L, dWs, dbs


def sgd_step(w, g, v, lr, momentum=0.0, nesterov=False, wd=0.0):
    """PyTorch-convention SGD on one array; returns (w, v)."""
    g = g + wd * w
    if momentum:
        v = momentum * v + g
        g = g + momentum * v if nesterov else v
    return w - lr * g, v


def adam_step(w, g, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False):
    """Adam (or AdamW with decoupled=True) on one array at step t >= 1; returns (w, m, v)."""
    if decoupled:
        w = w * (1 - lr * wd)
    else:
        g = g + wd * w
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    mhat = m / (1 - b1 ** t)
    vhat = v / (1 - b2 ** t)
    return w - lr * mhat / (np.sqrt(vhat) + eps), m, v
