# csrc/gemm/sources.cmake: the GEMM's sources, and the ISA flags of the files
# that hold SIMD micro-kernels (those files contain kernels only; everything
# else, the dispatcher included, is built at the portable baseline).
set(PYNN_GEMM_SOURCES
  csrc/cpu.c
  csrc/gemm/config.c
  csrc/gemm/gemm.c
  csrc/gemm/gemm_api.c
  csrc/gemm/ukr_generic.c
)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86)$"
   AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  list(APPEND PYNN_GEMM_SOURCES csrc/gemm/ukr_avx2.c)
  set(pynn_simd_defs "PYNN_HAVE_AVX2=1")
  # -ffp-contract=off: only the FMAs written as such, so the in-register
  # epilogue rounds exactly like act.h's scalar code
  set_source_files_properties(csrc/gemm/ukr_avx2.c PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-ffp-contract=off")
  if(CMAKE_SIZEOF_VOID_P EQUAL 8)   # 16-24 zmm accumulators: 32-bit x86 has 8 vector registers
    list(APPEND PYNN_GEMM_SOURCES csrc/gemm/ukr_avx512.c csrc/gemm/ukr_avx512_6x64.c)
    list(APPEND pynn_simd_defs "PYNN_HAVE_AVX512=1")
    set_source_files_properties(csrc/gemm/ukr_avx512.c csrc/gemm/ukr_avx512_6x64.c PROPERTIES COMPILE_OPTIONS
      "-mavx512f;-mavx512vl;-mavx512bw;-mavx512dq;-mavx2;-mfma;-ffp-contract=off")
  endif()
  # the kernel tables and the dispatcher must know the SIMD kernels exist
  set_source_files_properties(csrc/cpu.c csrc/gemm/config.c csrc/gemm/gemm.c
    PROPERTIES COMPILE_DEFINITIONS "${pynn_simd_defs}")
endif()
