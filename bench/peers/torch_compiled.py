"""torch.compile of the WHOLE training step (zero_grad, forward, mse_loss, backward,
opt.step) with the default inductor backend and mode; the compiled graphs are built
during the worker's warm-up, outside the timed blocks. Dynamo splits the step at
loss.backward() (forward+backward come from AOTAutograd, opt.step is its own compiled
graph); that is what torch.compile does with a plain training step. Inference:
torch.compile(model) called under torch.no_grad(). Threads as in torch_eager.
TORCHINDUCTOR_COMPILE_THREADS=1 (set by compare.py) keeps compilation from spawning a
worker pool on a shared machine; it does not change the compiled code."""
from . import torch_eager

NAME = "torch.compile"
MODULES = ("torch",)
BLAS_SENSITIVE = False
version = torch_eager.version


class Runner(torch_eager.Runner):
    compiled = True

    def _make_optimizer(self, lr):
        # The default (for-loop / foreach) update is what inductor traces and fuses.
        self.opt = self.torch.optim.SGD(list(self.model.parameters()), lr=lr, momentum=0.0)
        return "SGD(default), compiled"

    def _wrap_step(self, fn):
        return self.torch.compile(fn)

    def _wrap_forward(self, model):
        torch = self.torch
        cmodel = torch.compile(model)

        def fwd(X):
            with torch.no_grad():
                return cmodel(X)
        return fwd

    def notes(self):
        n = super().notes()
        n["compile"] = "torch.compile(step), inductor default mode"
        return n


def build(case):
    return Runner(case)
