"""JAX, the whole step under one jax.jit, as JAX's docs recommend.

params is a pytree (list of (W, b)); step(params, X, T) = value_and_grad of
mean((mlp(params, X) - T)^2), then params - lr * grads with jax.tree.map; jitted with
donate_argnums=0 so XLA updates the parameter buffers in place. Calls are dispatched
asynchronously: the loss handle is not waited on per step, and every timed block ends
with jax.block_until_ready on the latest params/output, so all queued work is counted.
Inference: a jitted forward. Float32, JAX_PLATFORMS=cpu.

Threads (set by compare.py before jax is imported, since XLA reads them at start-up):
1 thread  -> XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
             plus the process pinned to one core (sched_setaffinity, what taskset does);
n threads -> the process pinned to n cores; XLA sizes its thread pool from the cores the
             process may run on. With --no-pin only the 1-thread flags remain."""
import os

NAME = "jax"
MODULES = ("jax", "jaxlib")
BLAS_SENSITIVE = False


def version():
    import jax
    return jax.__version__


class Runner:
    def __init__(self, case):
        import jax
        import jax.numpy as jnp
        self.jax = jax
        L = len(case.sizes) - 1
        lr = case.lr

        def mlp(params, X):
            A = X
            for l, (W, b) in enumerate(params):
                A = A @ W + b
                if l < L - 1:
                    A = jax.nn.relu(A)
            return A

        def loss_fn(params, X, T):
            return jnp.mean((mlp(params, X) - T) ** 2)

        def step(params, X, T):
            loss, grads = jax.value_and_grad(loss_fn)(params, X, T)
            params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
            return params, loss

        self._step = jax.jit(step, donate_argnums=0)
        self._fwd = jax.jit(mlp)
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(case.weights, case.biases)]
        self.X = jnp.asarray(case.X)
        self.T = jnp.asarray(case.T)
        self.out = None

    def step(self):
        self.params, loss = self._step(self.params, self.X, self.T)
        return loss

    def loss(self, handle):
        return float(handle)

    def forward(self):
        self.out = self._fwd(self.params, self.X)

    def sync(self):
        self.jax.block_until_ready(self.params)
        if self.out is not None:
            self.out.block_until_ready()

    def notes(self):
        return {"XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
                "device": str(self.jax.devices()[0].platform)}


def build(case):
    return Runner(case)
