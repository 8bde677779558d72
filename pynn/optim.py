"""Optimizers: SGD (momentum, Nesterov, L2 weight decay) and Adam (optionally
with decoupled, AdamW-style, weight decay). An optimizer holds hyperparameters
and, per network it has stepped, its state (velocity, or Adam's moments and
step count) as flat arrays laid out like MLP.params. The update itself runs in
C, inside MLP.train_step. Weight decay applies to weights, not to biases."""
import weakref

import numpy as np

from . import _validate as v

_SGD, _ADAM = 0, 1


class _State:
    __slots__ = ("buffer", "step", "__weakref__")

    def __init__(self, buffer):
        self.buffer = buffer      # flat: velocity (SGD), or m then v (Adam)
        self.step = 0             # updates applied so far


class Optimizer:
    """Base class: per-network state, and the call into C."""
    _kind = None
    _hot = None                   # (net, its state) as weakrefs, and _args(): see _step

    def __init__(self, lr, weight_decay):
        self.lr = lr
        self.weight_decay = v.finite_float(weight_decay, "weight_decay", lo=0.0)
        self._states = weakref.WeakKeyDictionary()

    def __setattr__(self, name, value):
        """Sets the attribute and forgets _hot: train_step's next call rebuilds its
        arguments, and checks the state's length, under the new settings."""
        object.__setattr__(self, name, value)
        if name != "_hot":
            object.__setattr__(self, "_hot", None)

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = v.finite_float(value, "lr", lo=0.0, lo_open=True)

    def _state_len(self, n_params):
        raise NotImplementedError

    def _existing(self, net):
        """The state kept for `net`, or None where state() would make it anew."""
        st = self._states.get(net)
        if (st is None or st.buffer.size != self._state_len(net.n_params)
                or st.buffer.dtype != net.dtype):
            return None
        return st

    def _new_state(self, net):
        """Zero state for `net`, kept (replacing any of another length or dtype)."""
        st = _State(np.zeros(self._state_len(net.n_params), dtype=net.dtype))
        self._states[net] = st
        return st

    def state(self, net):
        """The state this optimizer keeps for `net` (created empty on first use)."""
        st = self._existing(net)
        return st if st is not None else self._new_state(net)

    def reset(self, net=None):
        """Forgets the state for `net` (or for every network)."""
        if net is None:
            self._states.clear()
        else:
            self._states.pop(net, None)
        self._hot = None

    def _args(self):
        """(kind, lr, momentum, nesterov, weight_decay, beta1, beta2, eps, decoupled)."""
        raise NotImplementedError

    def _step(self, X, T, labels, net, n_threads):
        """One training step of net (batch first, as MLP.train_step calls it). A batch
        that may not have been checked yet (labels None: it may come straight from
        the user) is checked before any state is made, so a bad call makes none.
        Steps of one net in a row reuse _hot: no lookups, no argument tuple made. A
        setting changed by another thread while _hot is rebuilt is caught by the
        check after it: the next step rebuilds again."""
        hot = self._hot
        if hot is None or hot[0]() is not net or (st := hot[1]()) is None:
            st = self._existing(net)
            if st is None:
                if labels is None:
                    net._batch(X, T)                # raises, naming the bad argument
                st = self._new_state(net)
            hot = self._hot = (weakref.ref(net), weakref.ref(st), self._args())
            if hot[2] != self._args() or self._existing(net) is not st:
                self._hot = None
        return net._net.train_step(X, T, labels, hot[2], st, st.buffer, n_threads)

    def _steps(self, net, X, T, labels, idx, batch_size, losses, n_threads):
        """Consecutive steps over mini-batches of rows idx; returns the batches applied."""
        st = self.state(net)
        return net._net.train_batches(X, T, labels, idx, batch_size, self._args(), st, st.buffer,
                                      losses, n_threads)


class SGD(Optimizer):
    """Stochastic gradient descent: g = dL/dw + weight_decay * w; with momentum
    mu, v = mu v + g and w -= lr * (g + mu v if nesterov else v); else w -= lr g."""
    _kind = _SGD

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.momentum = v.finite_float(momentum, "momentum", lo=0.0, hi=1.0, hi_open=True)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")

    def _state_len(self, n_params):
        return n_params if self.momentum != 0 else 0

    def _args(self):
        return (_SGD, self._lr, self.momentum, self.nesterov, self.weight_decay, 0.0, 0.0, 1.0, False)

    def __repr__(self):
        return (f"SGD(lr={self._lr}, momentum={self.momentum}, nesterov={self.nesterov}, "
                f"weight_decay={self.weight_decay})")


class Adam(Optimizer):
    """Adam (Kingma & Ba): m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
    w -= lr * m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps). weight_decay adds
    weight_decay * w to g, or with decoupled_weight_decay=True (AdamW) shrinks
    w by lr * weight_decay * w instead."""
    _kind = _ADAM

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False):
        super().__init__(lr, weight_decay)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (v.finite_float(b1, "betas[0]", lo=0.0, hi=1.0, hi_open=True),
                      v.finite_float(b2, "betas[1]", lo=0.0, hi=1.0, hi_open=True))
        self.eps = v.finite_float(eps, "eps", lo=0.0, lo_open=True)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _state_len(self, n_params):
        return 2 * n_params

    def _args(self):
        return (_ADAM, self._lr, 0.0, False, self.weight_decay, self.betas[0], self.betas[1],
                self.eps, self.decoupled_weight_decay)

    def __repr__(self):
        return (f"Adam(lr={self._lr}, betas={self.betas}, eps={self.eps}, weight_decay="
                f"{self.weight_decay}, decoupled_weight_decay={self.decoupled_weight_decay})")
