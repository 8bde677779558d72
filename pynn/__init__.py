"""pynn: fast multilayer perceptrons on multicore CPUs."""
from . import _omp_env  # noqa: F401  (first: sets OpenMP's wait policy before _core loads)
from ._version import __version__
from ._threads import get_num_threads, num_threads, set_num_threads
from ._info import info
from .mlp import MLP, Gradients
from .optim import SGD, Adam, Optimizer
from . import ops
from .training import History
from .io import ModelFileError
from . import datasets, plot, schedules

__all__ = ["MLP", "Gradients", "SGD", "Adam", "Optimizer", "ops", "info", "set_num_threads",
           "get_num_threads", "num_threads", "__version__", "History", "ModelFileError", "datasets",
           "plot", "schedules"]
