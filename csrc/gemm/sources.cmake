# csrc/gemm/sources.cmake: the GEMM's sources, and the ISA flags of the files
# that hold SIMD micro-kernels (those files contain kernels only).
set(PYNN_GEMM_SOURCES
  csrc/cpu.c
  csrc/gemm/gemm.c
  csrc/gemm/gemm_api.c
)
