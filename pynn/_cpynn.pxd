# pynn/_cpynn.pxd: declarations of the C API in csrc/pynn.h, nothing else.
# C functions never set Python exceptions: they return a pynn_status.
from libc.stdint cimport int32_t, int64_t, uint64_t

cdef extern from "pynn.h" nogil:
    ctypedef enum pynn_status:
        PYNN_OK
        PYNN_ERR_ARG
        PYNN_ERR_SHAPE
        PYNN_ERR_OVERFLOW
        PYNN_ERR_NOMEM
        PYNN_ERR_NONFINITE
        PYNN_ERR_NOTSUPP
        PYNN_ERR_BUSY
        PYNN_ERR_INTERNAL

    ctypedef enum pynn_dtype:
        PYNN_F32
        PYNN_F64

    ctypedef struct pynn_optim:
        int32_t kind
        int32_t nesterov
        int32_t decoupled
        int32_t reserved
        double lr
        double momentum
        double weight_decay
        double beta1
        double beta2
        double eps
        int64_t step

    ctypedef struct pynn_epilogue:
        int32_t kind
        int32_t act
        double slope
        const void *bias
        const void *deriv_of
        int64_t ld_deriv

    ctypedef struct pynn_net:
        pass

    const char *pynn_strerror(int status) noexcept
    const char *pynn_build_info() noexcept
    int pynn_openmp_enabled() noexcept
    int pynn_omp_max_threads() noexcept
    const char *pynn_openmp_runtime() noexcept
    const char *pynn_kernel_name() noexcept
    const char *pynn_kernel_list() noexcept
    void pynn_kernel_blocks(int dtype, int64_t *out) noexcept

    int pynn_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                  double alpha, const void *A, int64_t lda, const void *B, int64_t ldb,
                  double beta, void *C, int64_t ldc, const pynn_epilogue *epi,
                  int n_threads) noexcept

    int pynn_dense_forward(int dtype, int64_t batch, int64_t n_in, int64_t n_out, const void *X,
                           const void *W, const void *b, int act, double slope, void *A,
                           int n_threads) noexcept
    int pynn_dense_backward(int dtype, int64_t batch, int64_t n_in, int64_t n_out, const void *X,
                            const void *W, const void *A, const void *dA, int act, double slope,
                            void *dX, void *dW, void *db, int n_threads) noexcept
    int pynn_mse(int dtype, int64_t batch, int64_t n, const void *Y, const void *T, double *loss,
                 void *dY, int n_threads) noexcept
    int pynn_softmax_cross_entropy(int dtype, int64_t batch, int64_t n, const void *Z,
                                   const void *T, const int64_t *labels, double *loss, void *dZ,
                                   int n_threads) noexcept

    int pynn_net_create(pynn_net **out, int dtype, int64_t n_layers, const int64_t *sizes,
                        const int32_t *acts, double slope, int loss) noexcept
    void pynn_net_destroy(pynn_net *net) noexcept
    int64_t pynn_net_n_params(const pynn_net *net) noexcept
    void *pynn_net_params(pynn_net *net) noexcept
    int64_t pynn_net_weight_offset(const pynn_net *net, int64_t layer) noexcept
    int64_t pynn_net_bias_offset(const pynn_net *net, int64_t layer) noexcept
    int64_t pynn_net_workspace_batch(const pynn_net *net) noexcept
    int64_t pynn_net_workspace_allocations(const pynn_net *net) noexcept
    void pynn_net_set_adaptive_threads(pynn_net *net, int on) noexcept
    int pynn_net_last_threads(const pynn_net *net) noexcept
    void pynn_net_init(pynn_net *net, uint64_t seed) noexcept
    int pynn_net_reserve(pynn_net *net, int64_t batch, int n_threads) noexcept
    int pynn_net_forward(pynn_net *net, int64_t batch, const void *X, void *Y,
                         int n_threads) noexcept
    int pynn_net_loss(pynn_net *net, int64_t batch, const void *X, const void *T,
                      const int64_t *labels, double *loss, int n_threads) noexcept
    int pynn_net_gradients(pynn_net *net, int64_t batch, const void *X, const void *T,
                           const int64_t *labels, double *loss, void *grad,
                           int n_threads) noexcept
    int pynn_net_train_step(pynn_net *net, int64_t batch, const void *X, const void *T,
                            const int64_t *labels, const pynn_optim *opt, void *state,
                            double *loss, int n_threads) noexcept
    int pynn_net_train_batches(pynn_net *net, int64_t n_rows, const void *X, const void *T,
                               const int64_t *labels, const int64_t *idx, int64_t n_idx,
                               int64_t batch_size, const pynn_optim *opt, void *state,
                               double *losses, int64_t *n_done, int n_threads) noexcept
    int64_t pynn_optim_state_len(const pynn_optim *opt, int64_t n_params) noexcept

    void pynn_tuner_simulate(int nt_max, const double *seconds_per_call, int64_t n_calls,
                             int32_t *picks) noexcept
    void pynn_team_loop_simulate(int64_t n, int64_t chunk, int owned, int n_threads,
                                 int32_t *hits) noexcept
