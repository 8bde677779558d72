/* SPDX-License-Identifier: MIT
 * pynn.h: the C API of pynn, and the only header Cython sees.
 *
 * Conventions
 *   - Every fallible function returns a pynn_status (PYNN_OK == 0); outputs go
 *     through pointer arguments. Nothing here aborts, asserts on input, prints or
 *     touches Python. A failed call leaves every caller-visible buffer unchanged.
 *   - Matrices are row-major with 64-bit sizes; `ld*` is the row stride in
 *     elements. A network's weight W_l has shape (n_in, n_out), so a dense layer
 *     computes Z = X W + b.
 *   - `dtype` selects float or double for every `void *` buffer of a call.
 *   - `n_threads` >= 1 is the OpenMP team size a call may use; results are
 *     bitwise identical for every value.
 */
#ifndef PYNN_H
#define PYNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*** @@TYPES ***/

typedef enum {
    PYNN_OK = 0,
    PYNN_ERR_ARG = 1,       /* NULL pointer, unknown enum, bad hyperparameter */
    PYNN_ERR_SHAPE = 2,     /* a size <= 0 or sizes that do not match */
    PYNN_ERR_OVERFLOW = 3,  /* a product of sizes overflows 64-bit bytes */
    PYNN_ERR_NOMEM = 4,     /* an allocation failed */
    PYNN_ERR_NONFINITE = 5, /* loss or gradient not finite: step not applied */
    PYNN_ERR_NOTSUPP = 6,   /* e.g. a forced kernel the CPU lacks */
    PYNN_ERR_BUSY = 7,      /* the network is in use by another thread */
    PYNN_ERR_INTERNAL = 8
} pynn_status;

typedef enum { PYNN_F32 = 0, PYNN_F64 = 1 } pynn_dtype;

typedef enum {
    PYNN_ACT_IDENTITY = 0,   /* f(z) = z */
    PYNN_ACT_SIGMOID = 1,    /* f(z) = 1 / (1 + exp(-z)) */
    PYNN_ACT_TANH = 2,       /* f(z) = tanh(z) */
    PYNN_ACT_RELU = 3,       /* f(z) = max(z, 0) */
    PYNN_ACT_LEAKY_RELU = 4, /* f(z) = z if z > 0 else slope * z, slope >= 0 */
    PYNN_ACT_SOFTMAX = 5     /* f(z)_j = exp(z_j) / sum_i exp(z_i), output layer only */
} pynn_act;

typedef enum {
    PYNN_LOSS_MSE = 0,          /* L = mean over batch and outputs of (Y - T)^2 */
    PYNN_LOSS_CROSS_ENTROPY = 1 /* L = -mean over batch of sum_j T_j log P_j, softmax output */
} pynn_loss;

typedef enum { PYNN_NOTRANS = 0, PYNN_TRANS = 1 } pynn_trans;

typedef enum { PYNN_OPT_SGD = 0, PYNN_OPT_ADAM = 1 } pynn_opt_kind;

/* Hyperparameters of one optimizer update. Weight decay applies to weights
 * only, never to biases. */
typedef struct {
    int32_t kind;          /* pynn_opt_kind */
    int32_t nesterov;      /* SGD: Nesterov momentum */
    int32_t decoupled;     /* Adam: decoupled weight decay (AdamW) */
    int32_t reserved;
    double lr;             /* learning rate > 0 */
    double momentum;       /* SGD: in [0, 1) */
    double weight_decay;   /* >= 0 */
    double beta1, beta2;   /* Adam: in [0, 1) */
    double eps;            /* Adam: > 0 */
    int64_t step;          /* Adam: 1-based index t of this update (bias correction) */
} pynn_optim;

/* Elementwise work fused into a matrix product, applied to each output tile
 * while it is in cache:
 *   PYNN_EPI_BIAS_ACT:  C = act(C + bias)            (bias may be NULL; act not softmax)
 *   PYNN_EPI_MUL_DACT:  C = C * act'(from deriv_of)  (deriv_of is act's output,
 *                                                     row stride ld_deriv) */
typedef enum { PYNN_EPI_NONE = 0, PYNN_EPI_BIAS_ACT = 1, PYNN_EPI_MUL_DACT = 2 } pynn_epi_kind;

typedef struct {
    int32_t kind;          /* pynn_epi_kind */
    int32_t act;           /* pynn_act */
    double slope;          /* leaky_relu slope */
    const void *bias;      /* BIAS_ACT: n values, or NULL */
    const void *deriv_of;  /* MUL_DACT: activation output, same shape as C */
    int64_t ld_deriv;
} pynn_epilogue;

typedef struct pynn_net pynn_net;

/*** @@INFO: build, threads, kernels ***/

const char *pynn_strerror(int status);
const char *pynn_build_info(void);       /* compiler and build type */
int pynn_openmp_enabled(void);           /* 1 if built with OpenMP */
int pynn_omp_max_threads(void);          /* omp_get_max_threads() of the calling thread, 1 without OpenMP */
const char *pynn_openmp_runtime(void);   /* e.g. "libgomp (OpenMP 201511)" */
const char *pynn_kernel_name(void);      /* the GEMM kernel chosen for this process */
const char *pynn_kernel_list(void);      /* kernels this CPU can run, worst to best, comma-separated (the calling thread's buffer) */
/* The chosen kernel's blocking for dtype: out[0..9) = MR, NR, MC, KC, NC,
 * sup_n, sup_nt, cols_n, and the column count below which it hands a product
 * to another set (0: never; gemm/kernels.h), so that tests probe its real
 * boundaries. */
void pynn_kernel_blocks(int dtype, int64_t out[9]);

/*** @@GEMM ***/

/* C = epilogue(alpha * op(A) op(B) + beta * C), C is m x n, op(A) m x k, op(B) k x n.
 * beta == 0 overwrites C (NaN in C does not propagate). k == 0 gives beta * C.
 * `epi` may be NULL. Allocates the packing buffers this shape needs (the network
 * code calls the internal gemm/gemm.h entry points with its own workspace).
 * @return PYNN_OK, PYNN_ERR_ARG, PYNN_ERR_SHAPE, PYNN_ERR_NOMEM */
int pynn_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
              double alpha, const void *A, int64_t lda, const void *B, int64_t ldb,
              double beta, void *C, int64_t ldc, const pynn_epilogue *epi, int n_threads);

/*** @@OPS: the single steps of the maths, one call each ***/

/* A = act(X W + b); X (batch, n_in), W (n_in, n_out), b (n_out), A (batch, n_out). */
int pynn_dense_forward(int dtype, int64_t batch, int64_t n_in, int64_t n_out, const void *X,
                       const void *W, const void *b, int act, double slope, void *A, int n_threads);

/* Given A = act(X W + b) and dA = dL/dA: dZ = dA * act'(A) (softmax: its Jacobian),
 * dW = X^T dZ, db = sum over rows of dZ, dX = dZ W^T (skipped when dX is NULL). */
int pynn_dense_backward(int dtype, int64_t batch, int64_t n_in, int64_t n_out, const void *X,
                        const void *W, const void *A, const void *dA, int act, double slope,
                        void *dX, void *dW, void *db, int n_threads);

/* loss = mean((Y - T)^2) over all batch * n elements; dY (may be NULL) = 2 (Y - T) / (batch * n). */
int pynn_mse(int dtype, int64_t batch, int64_t n, const void *Y, const void *T, double *loss,
             void *dY, int n_threads);

/* Softmax cross-entropy from logits Z: P = softmax(Z) row-wise,
 * loss = -mean over rows of sum_j T_j log P_j, dZ (may be NULL) = (P * sum_j T_j - T) / batch.
 * Targets are T (batch, n) or, when T is NULL, integer class labels (batch,). */
int pynn_softmax_cross_entropy(int dtype, int64_t batch, int64_t n, const void *Z, const void *T,
                               const int64_t *labels, double *loss, void *dZ, int n_threads);

/*** @@NET: a multilayer perceptron ***/

/* Creates a network of n_layers dense layers; sizes has n_layers + 1 entries,
 * acts n_layers. Parameters are zero until pynn_net_init.
 * @return PYNN_OK, PYNN_ERR_ARG, PYNN_ERR_SHAPE, PYNN_ERR_OVERFLOW, PYNN_ERR_NOMEM */
int pynn_net_create(pynn_net **out, int dtype, int64_t n_layers, const int64_t *sizes,
                    const int32_t *acts, double slope, int loss);
void pynn_net_destroy(pynn_net *net);

int64_t pynn_net_n_params(const pynn_net *net);
void *pynn_net_params(pynn_net *net);                    /* the flat parameter buffer */
int64_t pynn_net_weight_offset(const pynn_net *net, int64_t layer); /* in elements */
int64_t pynn_net_bias_offset(const pynn_net *net, int64_t layer);
int64_t pynn_net_workspace_batch(const pynn_net *net);   /* batch the workspace holds now */
int64_t pynn_net_workspace_allocations(const pynn_net *net); /* times the workspace was (re)allocated */

/* Adaptive thread count (on by default): each call may use fewer threads than
 * allowed when fewer ran faster recently (another process holding a core);
 * results are identical either way. Off: every call uses the allowed maximum. */
void pynn_net_set_adaptive_threads(pynn_net *net, int on);
int pynn_net_last_threads(const pynn_net *net);             /* threads the last call used */

/* He-uniform weights for the ReLU family, Glorot-uniform otherwise, zero biases,
 * from a counter-based RNG: the same seed gives the same bits on every machine. */
void pynn_net_init(pynn_net *net, uint64_t seed);

/* Ensures the workspace holds `batch` rows (grows only). */
int pynn_net_reserve(pynn_net *net, int64_t batch, int n_threads);

/* Y (batch, n_out) = the network applied to X (batch, n_in). */
int pynn_net_forward(pynn_net *net, int64_t batch, const void *X, void *Y, int n_threads);

/* Targets: T (batch, n_out), or integer labels (batch,) with T NULL (cross-entropy only). */
int pynn_net_loss(pynn_net *net, int64_t batch, const void *X, const void *T,
                  const int64_t *labels, double *loss, int n_threads);

/* loss and the flat gradient dL/dparams (laid out like the parameters) into grad. */
int pynn_net_gradients(pynn_net *net, int64_t batch, const void *X, const void *T,
                       const int64_t *labels, double *loss, void *grad, int n_threads);

/* Forward, loss, backprop and the optimizer update in one call. `state` holds
 * pynn_optim_state_len() elements of the network's dtype (zero before the first
 * step). A non-finite loss or gradient returns PYNN_ERR_NONFINITE with
 * parameters and state untouched. */
int pynn_net_train_step(pynn_net *net, int64_t batch, const void *X, const void *T,
                        const int64_t *labels, const pynn_optim *opt, void *state,
                        double *loss, int n_threads);

/* Training steps on consecutive mini-batches gathered by index: batch b takes
 * rows idx[b * batch_size, min((b + 1) * batch_size, n_idx)) of X (n_rows, n_in)
 * and T (n_rows, n_out) or labels (n_rows,). opt->step is the first batch's step
 * (Adam), counting up. losses[b] gets each batch's loss, *n_done the batches
 * applied. A non-finite step stops there with PYNN_ERR_NONFINITE (that batch
 * not applied). Allocates nothing once the workspace holds batch_size rows. */
int pynn_net_train_batches(pynn_net *net, int64_t n_rows, const void *X, const void *T,
                           const int64_t *labels, const int64_t *idx, int64_t n_idx,
                           int64_t batch_size, const pynn_optim *opt, void *state,
                           double *losses, int64_t *n_done, int n_threads);

/* Elements of optimizer state a network of n_params needs (0, n_params or 2 n_params). */
int64_t pynn_optim_state_len(const pynn_optim *opt, int64_t n_params);

/*** @@TESTS: hooks for the test suite ***/

/* Runs the adaptive thread-count logic against given call times (call i on
 * nt threads takes seconds_per_call[i * (nt_max + 1) + nt], nt <= nt_max) and
 * writes the count picked for each of n_calls calls. */
void pynn_tuner_simulate(int nt_max, const double *seconds_per_call, int64_t n_calls,
                         int32_t *picks);

/* A team loop over [0, n) in chunks of `chunk` (owned: PYNN_TEAM_FOR_OWNED,
 * else PYNN_TEAM_FOR) on a team of n_threads, twice, a barrier after each (so
 * the second runs on the counters the barrier cleared); hits[i] counts how
 * often index i ran (2 each, when the loops are right). */
void pynn_team_loop_simulate(int64_t n, int64_t chunk, int owned, int n_threads, int32_t *hits);

#ifdef __cplusplus
}
#endif
#endif /* PYNN_H */
