// BLAS/LAPACK kernels for the workbench's wasm backend, over plain N-API (node_api.h only) so one build
// serves every Node and Electron of the same ABI. The JS side passes the wasm heap and byte offsets: the
// kernels read and write tfjs tensors where they lie, without copies.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>

#if defined(CLLM4REC_ACCELERATE)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#if defined(CLLM4REC_OPENBLAS)
#include <unistd.h>
// Declared here because Debian's cblas.h is sometimes the reference one, without OpenBLAS's extras.
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
#endif

#if !defined(CLLM4REC_ACCELERATE)
// Fortran LAPACK symbols, present in libopenblas; declared to avoid a LAPACKE dependency.
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
extern void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
#endif

static int g_threads = 1;
#if defined(CLLM4REC_OPENBLAS)
static int g_active_threads = -1; // what OpenBLAS is set to now (-1: unknown)
#endif

// Below this m·n·k one product runs on the calling thread: waking BLAS threads for a small product
// costs more than it saves, and on a loaded machine (training beside other work) far more (measured:
// 16 attention products of 256x32x256 took 22-63 ms on 2 threads under load, 3.6 ms on one).
#define SMALL_GEMM_WORK (1LL << 24)

static void use_threads_for(int64_t work) {
#if defined(CLLM4REC_OPENBLAS)
  int want = work < SMALL_GEMM_WORK ? 1 : g_threads;
  if (want != g_active_threads) {
    openblas_set_num_threads(want);
    g_active_threads = want;
  }
#else
  (void)work;
#endif
}

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
// Denormal floats (e.g. tiny attention probabilities and their gradients) take a microcode path that
// made one product 25x slower; the kernels flush them to zero (FTZ | DAZ) and restore the caller's mode.
#define FLUSH_DENORMALS_BEGIN                                                                          \
  unsigned int saved_csr = _mm_getcsr();                                                               \
  _mm_setcsr(saved_csr | 0x8040);
#define FLUSH_DENORMALS_END _mm_setcsr(saved_csr);
#else
#define FLUSH_DENORMALS_BEGIN
#define FLUSH_DENORMALS_END
#endif

#define CHECK(call)                                                                                    \
  do {                                                                                                 \
    if ((call) != napi_ok) {                                                                           \
      napi_throw_error(env, NULL, "cllm4rec_native: N-API call failed: " #call);                       \
      return NULL;                                                                                     \
    }                                                                                                  \
  } while (0)

#define THROW(msg)                                                                                     \
  do {                                                                                                 \
    napi_throw_error(env, NULL, msg);                                                                  \
    return NULL;                                                                                       \
  } while (0)

// Physical cores: hyperthread siblings share a core and slow BLAS down rather than up.
static int physical_cores(void) {
#if defined(CLLM4REC_OPENBLAS)
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  int count = 0;
  for (long cpu = 0; cpu < online; cpu++) {
    char path[128];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%ld/topology/thread_siblings_list", cpu);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    long first = -1;
    if (fscanf(f, "%ld", &first) == 1 && first == cpu) count++;
    fclose(f);
  }
  if (count > 0) return count;
  return online > 0 ? (int)online : 1;
#else
  return 0; // Accelerate picks its own thread count.
#endif
}

static void set_threads(int n) {
  if (n < 1) n = 1;
  g_threads = n;
#if defined(CLLM4REC_OPENBLAS)
  openblas_set_num_threads(n);
  g_active_threads = n;
#endif
}

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  if (napi_create_int64(env, v, &out) != napi_ok) return NULL;
  return out;
}

// Reads args[i] as an integer (a JS number).
static int get_i64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

// The heap argument: any TypedArray or ArrayBuffer; returns its bytes and length.
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  if (is_ta) {
    napi_typedarray_type type;
    size_t count, offset;
    void *p;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &count, &p, &ab, &offset) != napi_ok) return 0;
    size_t elem = 1;
    switch (type) {
    case napi_int16_array:
    case napi_uint16_array: elem = 2; break;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: elem = 4; break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: elem = 8; break;
    default: elem = 1;
    }
    *data = (uint8_t *)p;
    *len = count * elem;
    return p != NULL || count == 0;
  }
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (is_ab) {
    void *p;
    if (napi_get_arraybuffer_info(env, v, &p, len) != napi_ok) return 0;
    *data = (uint8_t *)p;
    return 1;
  }
  return 0;
}

static int in_bounds(int64_t off, int64_t bytes, size_t len) {
  return off >= 0 && bytes >= 0 && (off % 4) == 0 && (uint64_t)(off + bytes) <= (uint64_t)len;
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  CHECK(napi_create_object(env, &out));
#if defined(CLLM4REC_OPENBLAS)
  const char *lib = "OpenBLAS";
  const char *ver = openblas_get_config();
  int threads = openblas_get_num_threads();
#elif defined(CLLM4REC_ACCELERATE)
  const char *lib = "Accelerate";
  const char *ver = "vecLib";
  int threads = g_threads;
#else
  const char *lib = "cblas";
  const char *ver = "unknown";
  int threads = g_threads;
#endif
  CHECK(napi_create_string_utf8(env, lib, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "library", v));
  CHECK(napi_create_string_utf8(env, ver ? ver : "unknown", NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "version", v));
  CHECK(napi_create_int32(env, threads, &v));
  CHECK(napi_set_named_property(env, out, "threads", v));
  return out;
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_i64(env, argv[0], &n)) THROW("setThreads(n): n must be a number");
  set_threads(n > 0 ? (int)n : physical_cores());
  return make_int(env, g_threads);
}

// sgemm(heap, a, b, c, batch, m, n, k, transA, transB, strideA, strideB); strides in floats.
static napi_value js_sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 12) THROW("sgemm: expected 12 arguments");
  uint8_t *heap;
  size_t len;
  if (!get_bytes(env, argv[0], &heap, &len)) THROW("sgemm: heap must be a TypedArray or ArrayBuffer");
  int64_t a, b, c, batch, m, n, k, sa, sb;
  bool ta, tb;
  if (!get_i64(env, argv[1], &a) || !get_i64(env, argv[2], &b) || !get_i64(env, argv[3], &c) ||
      !get_i64(env, argv[4], &batch) || !get_i64(env, argv[5], &m) || !get_i64(env, argv[6], &n) ||
      !get_i64(env, argv[7], &k) || !get_i64(env, argv[10], &sa) || !get_i64(env, argv[11], &sb))
    THROW("sgemm: offsets, sizes and strides must be numbers");
  CHECK(napi_get_value_bool(env, argv[8], &ta));
  CHECK(napi_get_value_bool(env, argv[9], &tb));
  if (batch < 0 || m < 0 || n < 0 || k < 0 || sa < 0 || sb < 0) THROW("sgemm: negative size");
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) THROW("sgemm: dimension exceeds int32");
  if (batch == 0 || m == 0 || n == 0) return NULL;
  int64_t lastA = (batch - 1) * sa, lastB = (batch - 1) * sb;
  if (!in_bounds(a, 4 * (lastA + m * k), len) || !in_bounds(b, 4 * (lastB + k * n), len) ||
      !in_bounds(c, 4 * batch * m * n, len))
    THROW("sgemm: operand outside the heap or misaligned");
  const float *A = (const float *)(heap + a);
  const float *B = (const float *)(heap + b);
  float *C = (float *)(heap + c);
  if (k == 0) {
    memset(C, 0, (size_t)(batch * m * n) * sizeof(float));
    return NULL;
  }
  const int lda = ta ? (int)m : (int)k;
  const int ldb = tb ? (int)k : (int)n;
  use_threads_for(m * n * k);
  FLUSH_DENORMALS_BEGIN
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m,
                (int)n, (int)k, 1.0f, A + i * sa, lda, B + i * sb, ldb, 0.0f, C + i * m * n, (int)n);
  }
  FLUSH_DENORMALS_END
  return NULL;
}

// softmaxCe(heap, logits, labels, n, v, loss, dlogits, dy): dlogits/dy < 0 means absent.
static napi_value js_softmax_ce(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) THROW("softmaxCe: expected 8 arguments");
  uint8_t *heap;
  size_t len;
  if (!get_bytes(env, argv[0], &heap, &len)) THROW("softmaxCe: heap must be a TypedArray or ArrayBuffer");
  int64_t zo, yo, n, v, lo, go, dyo;
  if (!get_i64(env, argv[1], &zo) || !get_i64(env, argv[2], &yo) || !get_i64(env, argv[3], &n) ||
      !get_i64(env, argv[4], &v) || !get_i64(env, argv[5], &lo) || !get_i64(env, argv[6], &go) ||
      !get_i64(env, argv[7], &dyo))
    THROW("softmaxCe: offsets and sizes must be numbers");
  if (n < 0 || v < 1) THROW("softmaxCe: bad shape");
  if (!in_bounds(zo, 4 * n * v, len) || !in_bounds(yo, 4 * n, len) || !in_bounds(lo, 4 * n, len) ||
      (go >= 0 && !in_bounds(go, 4 * n * v, len)) || (dyo >= 0 && !in_bounds(dyo, 4 * n, len)))
    THROW("softmaxCe: operand outside the heap or misaligned");
  const float *Z = (const float *)(heap + zo);
  const int32_t *Y = (const int32_t *)(heap + yo);
  float *L = (float *)(heap + lo);
  float *G = go >= 0 ? (float *)(heap + go) : NULL;
  const float *DY = dyo >= 0 ? (const float *)(heap + dyo) : NULL;
  int64_t bad = 0;
  FLUSH_DENORMALS_BEGIN
  for (int64_t r = 0; r < n; r++) {
    const float *z = Z + r * v;
    int32_t y = Y[r];
    float *g = G ? G + r * v : NULL;
    if (y < 0 || y >= v) {
      // No target: zero loss and gradient, counted so the caller can reject or ignore it.
      bad++;
      L[r] = 0;
      if (g) memset(g, 0, (size_t)v * sizeof(float));
      continue;
    }
    float mx = z[0];
    for (int64_t j = 1; j < v; j++) mx = z[j] > mx ? z[j] : mx;
    // The sum runs in double: V is ~50k terms. exp values are parked in g (when wanted) to reuse them.
    double s = 0;
    if (g) {
      for (int64_t j = 0; j < v; j++) s += (g[j] = expf(z[j] - mx));
    } else {
      for (int64_t j = 0; j < v; j++) s += expf(z[j] - mx);
    }
    L[r] = (float)(log(s) + mx - z[y]);
    if (g) {
      float scale = DY ? DY[r] : 1.0f;
      float f = (float)(scale / s);
      for (int64_t j = 0; j < v; j++) g[j] *= f;
      g[y] -= scale;
    }
  }
  FLUSH_DENORMALS_END
  return make_int(env, bad);
}

// spdInverse(a: Float64Array, n): in place, full symmetric result.
static napi_value js_spd_inverse(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW("spdInverse: expected (a, n)");
  bool is_ta = false;
  CHECK(napi_is_typedarray(env, argv[0], &is_ta));
  if (!is_ta) THROW("spdInverse: a must be a Float64Array");
  napi_typedarray_type type;
  size_t count, offset;
  void *p;
  napi_value ab;
  CHECK(napi_get_typedarray_info(env, argv[0], &type, &count, &p, &ab, &offset));
  if (type != napi_float64_array) THROW("spdInverse: a must be a Float64Array");
  int64_t n;
  if (!get_i64(env, argv[1], &n) || n < 0 || n > INT32_MAX || (uint64_t)(n * n) != count)
    THROW("spdInverse: a must hold n*n entries");
  if (n == 0) return NULL;
  double *A = (double *)p;
  int ni = (int)n, info_code = 0;
  use_threads_for(n * n * n);
  // Row-major lower = column-major upper: 'U' here reads the row-major lower triangle.
  const char uplo = 'U';
#if defined(CLLM4REC_ACCELERATE)
  __CLPK_integer nn = ni, lda = ni, inf = 0;
  dpotrf_((char *)&uplo, &nn, A, &lda, &inf);
  info_code = (int)inf;
#else
  dpotrf_(&uplo, &ni, A, &ni, &info_code);
#endif
  if (info_code > 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "spdInverse: matrix is not positive definite (pivot %d)", info_code - 1);
    THROW(msg);
  }
  if (info_code < 0) THROW("spdInverse: dpotrf rejected its arguments");
#if defined(CLLM4REC_ACCELERATE)
  dpotri_((char *)&uplo, &nn, A, &lda, &inf);
  info_code = (int)inf;
#else
  dpotri_(&uplo, &ni, A, &ni, &info_code);
#endif
  if (info_code != 0) THROW("spdInverse: dpotri failed (singular factor)");
  // dpotri fills one triangle (row-major lower); mirror it.
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < i; j++) A[j * n + i] = A[i * n + j];
  return NULL;
}

// Context-aware (NAPI_MODULE_INIT) so worker_threads can load it; BLAS state is process-wide.
NAPI_MODULE_INIT() {
  static int initialised = 0;
  if (!initialised) {
    initialised = 1;
    const char *env_threads = getenv("CLLM4REC_THREADS");
    int n = env_threads ? atoi(env_threads) : 0;
    set_threads(n > 0 ? n : physical_cores());
  }
  napi_property_descriptor props[] = {
      {"info", NULL, js_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, js_set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemm", NULL, js_sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"softmaxCe", NULL, js_softmax_ce, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spdInverse", NULL, js_spd_inverse, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
