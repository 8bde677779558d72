"""Learning-rate schedules for MLP.fit: callables of the epoch (0-based) that
return the learning rate to use for that epoch.

fit(lr_schedule=...) takes one of these objects, any other callable
``f(epoch) -> lr``, or a name ("step", "exponential", "cosine") which
`make_schedule` turns into the object with its default settings, starting from
the optimizer's learning rate.
"""
import math

from . import _validate as v


class StepLR:
    """lr = lr0 * gamma ** (epoch // step_size): drops by `gamma` every `step_size` epochs.

    Parameters
    ----------
    lr0 : float
        Learning rate of epoch 0 (> 0).
    step_size : int
        Epochs between drops (>= 1).
    gamma : float
        Factor applied at each drop, in (0, 1].
    """

    def __init__(self, lr0, step_size=10, gamma=0.1):
        self.lr0 = v.finite_float(lr0, "lr0", lo=0.0, lo_open=True)
        self.step_size = v.positive_int(step_size, "step_size")
        self.gamma = v.finite_float(gamma, "gamma", lo=0.0, hi=1.0, lo_open=True)

    def __call__(self, epoch):
        return self.lr0 * self.gamma ** (epoch // self.step_size)

    def __repr__(self):
        return f"StepLR(lr0={self.lr0}, step_size={self.step_size}, gamma={self.gamma})"


class ExponentialLR:
    """lr = lr0 * gamma ** epoch.

    Parameters
    ----------
    lr0 : float
        Learning rate of epoch 0 (> 0).
    gamma : float
        Factor per epoch, in (0, 1].
    """

    def __init__(self, lr0, gamma=0.95):
        self.lr0 = v.finite_float(lr0, "lr0", lo=0.0, lo_open=True)
        self.gamma = v.finite_float(gamma, "gamma", lo=0.0, hi=1.0, lo_open=True)

    def __call__(self, epoch):
        return self.lr0 * self.gamma ** epoch

    def __repr__(self):
        return f"ExponentialLR(lr0={self.lr0}, gamma={self.gamma})"


class CosineLR:
    """Cosine annealing from lr0 (epoch 0) towards min_lr (reached after `epochs` epochs):
    lr = min_lr + (lr0 - min_lr) * (1 + cos(pi * epoch / epochs)) / 2.

    Parameters
    ----------
    lr0 : float
        Learning rate of epoch 0 (> 0).
    epochs : int
        Length of the annealing (>= 1); later epochs stay at min_lr.
    min_lr : float
        Floor, in [0, lr0). Learning rates must stay > 0, so an epoch that
        would reach exactly 0 uses lr0 * 1e-6 instead.
    """

    def __init__(self, lr0, epochs, min_lr=0.0):
        self.lr0 = v.finite_float(lr0, "lr0", lo=0.0, lo_open=True)
        self.epochs = v.positive_int(epochs, "epochs")
        self.min_lr = v.finite_float(min_lr, "min_lr", lo=0.0, hi=self.lr0, hi_open=True)

    def __call__(self, epoch):
        t = min(epoch, self.epochs) / self.epochs
        lr = self.min_lr + (self.lr0 - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * t))
        return max(lr, self.lr0 * 1e-6)

    def __repr__(self):
        return f"CosineLR(lr0={self.lr0}, epochs={self.epochs}, min_lr={self.min_lr})"


def make_schedule(spec, lr0, epochs):
    """The schedule `spec` names, or `spec` itself when it is callable.

    Parameters
    ----------
    spec : {"step", "exponential", "cosine"} or callable
        "step": StepLR(lr0, step_size=max(1, epochs // 3), gamma=0.1);
        "exponential": ExponentialLR(lr0, gamma=0.95);
        "cosine": CosineLR(lr0, epochs). A callable is returned unchanged.
    lr0 : float
        The optimizer's learning rate when training starts.
    epochs : int
        The number of epochs fit will run.
    """
    if callable(spec):
        return spec
    if spec == "step":
        return StepLR(lr0, step_size=max(1, epochs // 3))
    if spec == "exponential":
        return ExponentialLR(lr0)
    if spec == "cosine":
        return CosineLR(lr0, epochs)
    raise ValueError(f"lr_schedule must be 'step', 'exponential', 'cosine' or a callable "
                     f"epoch -> lr, got {spec!r}")
