"""PyTorch eager, the way its tutorials write a training step.

model = nn.Sequential(Linear, ReLU, ..., Linear) holding compare.py's initial weights
(nn.Linear stores W^T); loss = F.mse_loss(model(X), T) (= mean((Y-T)^2));
opt.zero_grad(set_to_none=True); loss.backward(); opt.step() with torch.optim.SGD(lr,
momentum=0), fused=True when this torch supports it on CPU (the fastest update path),
else the default. Inference: model(X) under torch.inference_mode().
Threads: torch.set_num_threads(n) plus OMP_NUM_THREADS / MKL_NUM_THREADS from compare.py."""
NAME = "torch"
MODULES = ("torch",)
BLAS_SENSITIVE = False


def version():
    import torch
    return torch.__version__


def make_model(case):
    import numpy as np
    import torch
    layers = []
    L = len(case.sizes) - 1
    for l, (n_in, n_out) in enumerate(zip(case.sizes[:-1], case.sizes[1:])):
        lin = torch.nn.Linear(n_in, n_out, dtype=torch.float32)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(case.weights[l].T)))
            lin.bias.copy_(torch.from_numpy(case.biases[l]))
        layers.append(lin)
        if l < L - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class Runner:
    compiled = False

    def __init__(self, case):
        import torch
        import torch.nn.functional as F
        self.torch = torch
        torch.set_num_threads(case.threads)
        self.model = make_model(case)
        self.X = torch.from_numpy(case.X)
        self.T = torch.from_numpy(case.T)
        self.opt_kind = self._make_optimizer(case.lr)
        model, opt = self.model, self.opt

        def train_step(X, T):
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(X), T)
            loss.backward()
            opt.step()
            return loss

        self._step = self._wrap_step(train_step)
        self._fwd = self._wrap_forward(model)

    def _make_optimizer(self, lr):
        params = list(self.model.parameters())
        try:
            self.opt = self.torch.optim.SGD(params, lr=lr, momentum=0.0, fused=True)
            return "SGD(fused=True)"
        except (TypeError, RuntimeError, ValueError):
            self.opt = self.torch.optim.SGD(params, lr=lr, momentum=0.0)
            return "SGD(default)"

    def _wrap_step(self, fn):
        return fn

    def _wrap_forward(self, model):
        torch = self.torch

        def fwd(X):
            with torch.inference_mode():
                return model(X)
        return fwd

    def step(self):
        return self._step(self.X, self.T)

    def loss(self, handle):
        return float(handle.item())

    def forward(self):
        self.out = self._fwd(self.X)

    def sync(self):
        pass

    def notes(self):
        return {"threads": self.torch.get_num_threads(), "optimizer": self.opt_kind}


def build(case):
    return Runner(case)
