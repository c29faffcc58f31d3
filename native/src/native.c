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


// exp(x) for x <= 0 (softmax's shifted logits), branch-free so the loops below vectorise: Cody-Waite
// range reduction and a degree-6 polynomial (Cephes expf), relative error ~1e-7; below -87.3 it is 0.
static inline float exp_nonpositive(float x) {
  x = x < -87.3f ? -87.3f : x;
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; // round(x / ln 2)
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union { float f; int32_t i; } scale;
  scale.i = ((int32_t)n + 127) << 23;
  return p * scale.f;
}

// tanh, branch-free (vectorises): the odd Taylor series to x^11 for |x| < 0.2 (error < 1e-9), else
// (1 − e^{−2|x|}) / (1 + e^{−2|x|}) with the sign restored; relative error ~2e-7.
static inline float tanh_fast(float x) {
  const float a = x < 0 ? -x : x;
  const float ac = a > 9.0f ? 9.0f : a;
  const float e = exp_nonpositive(-2.0f * ac);
  const float big = (1.0f - e) / (1.0f + e);
  const float x2 = x * x;
  float p = -0.0088632355f; // odd series of tanh: 1, -1/3, 2/15, -17/315, 62/2835, -1382/155925
  p = p * x2 + 0.0218694885f;
  p = p * x2 - 0.0539682540f;
  p = p * x2 + 0.1333333333f;
  p = p * x2 - 0.3333333333f;
  const float small = x * (1.0f + x2 * p); // keeps the sign of -0
  const float signed_big = x < 0 ? -big : big;
  return a < 0.2f ? small : signed_big;
}

// Row max and Σ exp(z - max) (in double, over 8 lanes), exps stored in e.
static void row_softmax_terms(const float *z, int64_t v, float *e, float *mx_out, double *sum_out) {
  float lane_max[16];
  int64_t j = 0;
  for (int k = 0; k < 16; k++) lane_max[k] = z[0];
  for (; j + 16 <= v; j += 16)
    for (int k = 0; k < 16; k++) lane_max[k] = z[j + k] > lane_max[k] ? z[j + k] : lane_max[k];
  float mx = lane_max[0];
  for (int k = 1; k < 16; k++) mx = lane_max[k] > mx ? lane_max[k] : mx;
  for (; j < v; j++) mx = z[j] > mx ? z[j] : mx;
  for (j = 0; j < v; j++) e[j] = exp_nonpositive(z[j] - mx);
  double lane_sum[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (j = 0; j + 8 <= v; j += 8)
    for (int k = 0; k < 8; k++) lane_sum[k] += (double)e[j + k];
  double s = 0;
  for (int k = 0; k < 8; k++) s += lane_sum[k];
  for (; j < v; j++) s += e[j];
  *mx_out = mx;
  *sum_out = s;
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

// Reads the arguments every heap kernel takes, (heap, n_ints integers, n_doubles numbers), and throws
// naming the kernel when one is missing or of the wrong kind; returns 0 after throwing.
static int heap_args(napi_env env, napi_callback_info info, const char *fn, size_t n_ints, size_t n_doubles,
                     uint8_t **heap, size_t *len, int64_t *ints, double *doubles) {
  napi_value argv[24];
  size_t want = 1 + n_ints + n_doubles, argc = 24;
  char msg[128];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    snprintf(msg, sizeof msg, "%s: expected %zu arguments", fn, want);
    napi_throw_error(env, NULL, msg);
    return 0;
  }
  if (!get_bytes(env, argv[0], heap, len)) {
    snprintf(msg, sizeof msg, "%s: heap must be a TypedArray or ArrayBuffer", fn);
    napi_throw_error(env, NULL, msg);
    return 0;
  }
  for (size_t i = 0; i < n_ints; i++) {
    if (!get_i64(env, argv[1 + i], &ints[i])) {
      snprintf(msg, sizeof msg, "%s: offsets and sizes must be numbers", fn);
      napi_throw_error(env, NULL, msg);
      return 0;
    }
  }
  for (size_t i = 0; i < n_doubles; i++) {
    if (napi_get_value_double(env, argv[1 + n_ints + i], &doubles[i]) != napi_ok) {
      snprintf(msg, sizeof msg, "%s: hyperparameters must be numbers", fn);
      napi_throw_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
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
  uint8_t *heap;
  size_t len;
  int64_t a[7];
  if (!heap_args(env, info, "softmaxCe", 7, 0, &heap, &len, a, NULL)) return NULL;
  const int64_t zo = a[0], yo = a[1], n = a[2], v = a[3], lo = a[4], go = a[5], dyo = a[6];
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
  float *scratch = G ? NULL : (float *)malloc((size_t)v * sizeof(float));
  if (!G && !scratch) THROW("softmaxCe: out of memory");
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
    // Exps go to g when the gradient is wanted (reused there), else to a row of scratch.
    float mx;
    double s;
    row_softmax_terms(z, v, g ? g : scratch, &mx, &s);
    L[r] = (float)(log(s) + mx - z[y]);
    if (g) {
      float scale = DY ? DY[r] : 1.0f;
      float f = (float)(scale / s);
      for (int64_t j = 0; j < v; j++) g[j] *= f;
      g[y] -= scale;
    }
  }
  FLUSH_DENORMALS_END
  free(scratch);
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

// adam(heap, w, m, v, g, n, outW, outM, outV, lr, beta1, beta2, eps, oneMinusAccBeta1, oneMinusAccBeta2):
// one Adam step over n floats, the same float32 operations in the same order as tfjs's AdamOptimizer
// (so results match it), in one pass instead of ~13 full-size kernels. Outputs may alias inputs.
// Denormals are flushed: the moments of rarely-seen embedding rows decay into them within ~800 steps.
static napi_value js_adam(napi_env env, napi_callback_info info) {
  uint8_t *heap;
  size_t len;
  int64_t a[8];
  double hp[6];
  if (!heap_args(env, info, "adam", 8, 6, &heap, &len, a, hp)) return NULL;
  const int64_t wo = a[0], mo = a[1], vo = a[2], go = a[3], n = a[4], owo = a[5], omo = a[6], ovo = a[7];
  if (n < 0) THROW("adam: negative size");
  const int64_t bytes = 4 * n;
  if (!in_bounds(wo, bytes, len) || !in_bounds(mo, bytes, len) || !in_bounds(vo, bytes, len) ||
      !in_bounds(go, bytes, len) || !in_bounds(owo, bytes, len) || !in_bounds(omo, bytes, len) ||
      !in_bounds(ovo, bytes, len))
    THROW("adam: operand outside the heap or misaligned");
  const float *W = (const float *)(heap + wo), *M = (const float *)(heap + mo);
  const float *V = (const float *)(heap + vo), *G = (const float *)(heap + go);
  float *OW = (float *)(heap + owo), *OM = (float *)(heap + omo), *OV = (float *)(heap + ovo);
  const float lr = (float)hp[0], b1 = (float)hp[1], b2 = (float)hp[2], eps = (float)hp[3];
  const float c1 = (float)(1 - hp[1]), c2 = (float)(1 - hp[2]);
  const float d1 = (float)hp[4], d2 = (float)hp[5], neg_lr = -lr;
  FLUSH_DENORMALS_BEGIN
  for (int64_t i = 0; i < n; i++) {
    const float g = G[i];
    const float m1 = M[i] * b1 + g * c1;
    const float v1 = V[i] * b2 + (g * g) * c2;
    const float w1 = ((m1 / d1) / (sqrtf(v1 / d2) + eps)) * neg_lr + W[i];
    OM[i] = m1;
    OV[i] = v1;
    OW[i] = w1;
  }
  FLUSH_DENORMALS_END
  return NULL;
}

// sumRows(heap, x, rows, cols, out): out[c] = Σ_r x[r, c], accumulated in row order in float as tfjs's
// wasm Sum does after its transpose (same result, no transpose: the reduction over a tensor's leading
// axes, e.g. every bias and layer-norm gradient, took 1.6-7 ms on wasm for [1024, 128..512]).
static napi_value js_sum_rows(napi_env env, napi_callback_info info) {
  uint8_t *heap;
  size_t len;
  int64_t a[4];
  if (!heap_args(env, info, "sumRows", 4, 0, &heap, &len, a, NULL)) return NULL;
  const int64_t xo = a[0], rows = a[1], cols = a[2], oo = a[3];
  if (rows < 0 || cols < 0) THROW("sumRows: negative size");
  if (!in_bounds(xo, 4 * rows * cols, len) || !in_bounds(oo, 4 * cols, len))
    THROW("sumRows: operand outside the heap or misaligned");
  const float *X = (const float *)(heap + xo);
  float *O = (float *)(heap + oo);
  memset(O, 0, (size_t)cols * sizeof(float));
  FLUSH_DENORMALS_BEGIN
  for (int64_t r = 0; r < rows; r++) {
    const float *x = X + r * cols;
    for (int64_t c = 0; c < cols; c++) O[c] += x[c];
  }
  FLUSH_DENORMALS_END
  return NULL;
}

// tanh(heap, x, n, out) by tanh_fast: wasm's Tanh took 8-12 ms for GELU's [1024, 512].
static napi_value js_tanh(napi_env env, napi_callback_info info) {
  uint8_t *heap;
  size_t len;
  int64_t a[3];
  if (!heap_args(env, info, "tanh", 3, 0, &heap, &len, a, NULL)) return NULL;
  const int64_t xo = a[0], n = a[1], oo = a[2];
  if (n < 0) THROW("tanh: negative size");
  if (!in_bounds(xo, 4 * n, len) || !in_bounds(oo, 4 * n, len)) THROW("tanh: operand outside the heap or misaligned");
  const float *X = (const float *)(heap + xo);
  float *O = (float *)(heap + oo);
  FLUSH_DENORMALS_BEGIN
  for (int64_t i = 0; i < n; i++) O[i] = tanh_fast(X[i]);
  FLUSH_DENORMALS_END
  return NULL;
}

// layerNorm(heap, x, g, b, rows, c, y, mean, rstd; eps): y = (x − μ)·rstd·g + b per row of c, with μ and
// rstd = 1/sqrt(var + eps) kept for the backward. One pass per row instead of ~8 tfjs kernels.
static napi_value js_layer_norm(napi_env env, napi_callback_info info) {
  uint8_t *heap;
  size_t len;
  int64_t a[8];
  double eps;
  if (!heap_args(env, info, "layerNorm", 8, 1, &heap, &len, a, &eps)) return NULL;
  const int64_t xo = a[0], go = a[1], bo = a[2], rows = a[3], c = a[4], yo = a[5], mo = a[6], ro = a[7];
  if (rows < 0 || c < 1) THROW("layerNorm: bad shape");
  if (!in_bounds(xo, 4 * rows * c, len) || !in_bounds(go, 4 * c, len) || !in_bounds(bo, 4 * c, len) ||
      !in_bounds(yo, 4 * rows * c, len) || !in_bounds(mo, 4 * rows, len) || !in_bounds(ro, 4 * rows, len))
    THROW("layerNorm: operand outside the heap or misaligned");
  const float *X = (const float *)(heap + xo), *G = (const float *)(heap + go), *B = (const float *)(heap + bo);
  float *Y = (float *)(heap + yo), *MU = (float *)(heap + mo), *RS = (float *)(heap + ro);
  FLUSH_DENORMALS_BEGIN
  for (int64_t r = 0; r < rows; r++) {
    const float *x = X + r * c;
    float *y = Y + r * c;
    float sum = 0;
    for (int64_t j = 0; j < c; j++) sum += x[j];
    const float mu = sum / (float)c;
    float sq = 0;
    for (int64_t j = 0; j < c; j++) sq += (x[j] - mu) * (x[j] - mu);
    const float rstd = 1.0f / sqrtf(sq / (float)c + (float)eps);
    for (int64_t j = 0; j < c; j++) y[j] = (x[j] - mu) * rstd * G[j] + B[j];
    MU[r] = mu;
    RS[r] = rstd;
  }
  FLUSH_DENORMALS_END
  return NULL;
}

// layerNormGrad(heap, dy, x, g, mean, rstd, rows, c, dx, dg, db): with x̂ = (x − μ)·rstd and d = dy·g,
// dx = rstd·(d − mean(d) − x̂·mean(d·x̂)) per row; dg = Σ_rows dy·x̂ and db = Σ_rows dy.
static napi_value js_layer_norm_grad(napi_env env, napi_callback_info info) {
  uint8_t *heap;
  size_t len;
  int64_t a[10];
  if (!heap_args(env, info, "layerNormGrad", 10, 0, &heap, &len, a, NULL)) return NULL;
  const int64_t dyo = a[0], xo = a[1], go = a[2], mo = a[3], ro = a[4], rows = a[5], c = a[6];
  const int64_t dxo = a[7], dgo = a[8], dbo = a[9];
  if (rows < 0 || c < 1) THROW("layerNormGrad: bad shape");
  if (!in_bounds(dyo, 4 * rows * c, len) || !in_bounds(xo, 4 * rows * c, len) || !in_bounds(go, 4 * c, len) ||
      !in_bounds(mo, 4 * rows, len) || !in_bounds(ro, 4 * rows, len) || !in_bounds(dxo, 4 * rows * c, len) ||
      !in_bounds(dgo, 4 * c, len) || !in_bounds(dbo, 4 * c, len))
    THROW("layerNormGrad: operand outside the heap or misaligned");
  const float *DY = (const float *)(heap + dyo), *X = (const float *)(heap + xo);
  const float *G = (const float *)(heap + go), *MU = (const float *)(heap + mo), *RS = (const float *)(heap + ro);
  float *DX = (float *)(heap + dxo), *DG = (float *)(heap + dgo), *DB = (float *)(heap + dbo);
  memset(DG, 0, (size_t)c * sizeof(float));
  memset(DB, 0, (size_t)c * sizeof(float));
  FLUSH_DENORMALS_BEGIN
  for (int64_t r = 0; r < rows; r++) {
    const float *dy = DY + r * c, *x = X + r * c;
    float *dx = DX + r * c;
    const float mu = MU[r], rstd = RS[r];
    float sd = 0, sdx = 0;
    for (int64_t j = 0; j < c; j++) {
      const float xh = (x[j] - mu) * rstd;
      const float d = dy[j] * G[j];
      sd += d;
      sdx += d * xh;
      DG[j] += dy[j] * xh;
      DB[j] += dy[j];
    }
    const float md = sd / (float)c, mdx = sdx / (float)c;
    for (int64_t j = 0; j < c; j++) dx[j] = rstd * (dy[j] * G[j] - md - (x[j] - mu) * rstd * mdx);
  }
  FLUSH_DENORMALS_END
  return NULL;
}

// gelu(heap, x, n, y, dy, dx): GPT-2's tanh GELU, y = ½x(1 + tanh(k(x + 0.044715x³))); where dy >= 0
// also writes dx = dy·y'(x) instead of y (y < 0 then). Fused: ~9 forward and ~20 backward kernels in tfjs.
static napi_value js_gelu(napi_env env, napi_callback_info info) {
  uint8_t *heap;
  size_t len;
  int64_t a[5];
  if (!heap_args(env, info, "gelu", 5, 0, &heap, &len, a, NULL)) return NULL;
  const int64_t xo = a[0], n = a[1], yo = a[2], dyo = a[3], dxo = a[4];
  if (n < 0) THROW("gelu: negative size");
  if (!in_bounds(xo, 4 * n, len) || (yo >= 0 && !in_bounds(yo, 4 * n, len)) ||
      (dyo >= 0 && !in_bounds(dyo, 4 * n, len)) || (dyo >= 0 && !in_bounds(dxo, 4 * n, len)))
    THROW("gelu: operand outside the heap or misaligned");
  const float *X = (const float *)(heap + xo);
  const float k = 0.7978845608028654f, c3 = 0.044715f;
  FLUSH_DENORMALS_BEGIN
  if (dyo < 0) {
    float *Y = (float *)(heap + yo);
    for (int64_t i = 0; i < n; i++) {
      const float x = X[i];
      Y[i] = 0.5f * x * (1.0f + tanh_fast(k * (x + c3 * x * x * x)));
    }
  } else {
    const float *DY = (const float *)(heap + dyo);
    float *DX = (float *)(heap + dxo);
    for (int64_t i = 0; i < n; i++) {
      const float x = X[i];
      const float t = tanh_fast(k * (x + c3 * x * x * x));
      DX[i] = DY[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * k * (1.0f + 3.0f * c3 * x * x));
    }
  }
  FLUSH_DENORMALS_END
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
      {"adam", NULL, js_adam, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sumRows", NULL, js_sum_rows, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tanh", NULL, js_tanh, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNorm", NULL, js_layer_norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"layerNormGrad", NULL, js_layer_norm_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gelu", NULL, js_gelu, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
