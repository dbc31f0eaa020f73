// Dense layer, rung 1: workgroup tiles. The textbook GPU matmul C[M×N] = A[M×K]·B[K×N], whose operands are
// read in the layout each product of a dense layer needs, so no transposed copy is ever made:
//
//   forward           y[rows×out] = x[rows×in] · Wᵀ + b   A = x              B(k,n) = W[n,k]  (B_TRANSPOSED)
//   backward-data     dx[rows×in] = dy[rows×out] · W      A = dy             B = W[out×in]
//   backward-weights  dW[out×in]  = dyᵀ · x               A(m,k) = dy[k,m]   B = x[rows×in]   (A_TRANSPOSED)
//
// The trick: a workgroup owns a TILE_M×TILE_N block of C. Each step it stages a TILE_K-deep slice of A and B
// in workgroup memory, so every value fetched from storage is reused TILE_N/4 (or TILE_M/4) times; each
// invocation keeps a 4×4 block of C in registers and does 16 multiply-adds per pair of vec4 loads from
// workgroup memory. Why it pays: on a GPU, workgroup memory is an on-chip cache the kernel fills itself.
// Any adapter, any shape (edges are zero-padded on load and masked on store): the policy takes it for `in`
// no multiple of 4, where the register-blocked rungs cannot load vec4s. It applies no activation, so a model
// keeps its activations' own kernels around it. docs/perf/dense.md, workgroup tiles.

struct Dims {
  M: u32,  // rows of C
  N: u32,  // columns of C
  K: u32,  // the summed dimension
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32, ${LEN_a}u>;
@group(0) @binding(2) var<storage, read> b: array<f32, ${LEN_b}u>;
@group(0) @binding(3) var<storage, read_write> c: array<f32, ${LEN_c}u>;
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<f32, ${LEN_bias}u>;  // [N], added to every row (forward only)
#endif

const TILE_M: u32 = ${TILE_M}u;
const TILE_N: u32 = ${TILE_N}u;
const TILE_K: u32 = ${TILE_K}u;
const THREADS_X: u32 = TILE_N / 4u;  // invocations across N, 4 columns each
const THREADS_Y: u32 = TILE_M / 4u;  // invocations across M, 4 rows each
const THREADS: u32 = THREADS_X * THREADS_Y;

// Staged slices, k-major so a row of 4 consecutive m (or n) is one vec4.
var<workgroup> tileA: array<vec4f, TILE_K * TILE_M / 4u>;  // tileA[k][m/4]
var<workgroup> tileB: array<vec4f, TILE_K * TILE_N / 4u>;  // tileB[k][n/4]

fn loadA(m: u32, k: u32) -> f32 {
  if (m >= dims.M || k >= dims.K) { return 0.0; }
#if ${A_TRANSPOSED}
  return a[k * dims.M + m];
#else
  return a[m * dims.K + k];
#endif
}

fn loadB(k: u32, n: u32) -> f32 {
  if (k >= dims.K || n >= dims.N) { return 0.0; }
#if ${B_TRANSPOSED}
  return b[n * dims.K + k];
#else
  return b[k * dims.N + n];
#endif
}

@compute @workgroup_size(THREADS_X, THREADS_Y)
fn main(@builtin(workgroup_id) group: vec3u,
        @builtin(local_invocation_id) local: vec3u,
        @builtin(local_invocation_index) thread: u32) {
  let rowBase = group.y * TILE_M;
  let colBase = group.x * TILE_N;
  var acc: array<vec4f, 4>;  // acc[r] holds C[row r][4 columns]

  for (var k0 = 0u; k0 < dims.K; k0 += TILE_K) {
    // Each invocation stages 4 consecutive m (or n) of one k as a vec4.
    for (var i = thread; i < TILE_K * TILE_M / 4u; i += THREADS) {
      let k = i / (TILE_M / 4u);
      let m = rowBase + (i % (TILE_M / 4u)) * 4u;
      tileA[i] = vec4f(loadA(m, k0 + k), loadA(m + 1u, k0 + k), loadA(m + 2u, k0 + k), loadA(m + 3u, k0 + k));
    }
    for (var i = thread; i < TILE_K * TILE_N / 4u; i += THREADS) {
      let k = i / (TILE_N / 4u);
      let n = colBase + (i % (TILE_N / 4u)) * 4u;
      tileB[i] = vec4f(loadB(k0 + k, n), loadB(k0 + k, n + 1u), loadB(k0 + k, n + 2u), loadB(k0 + k, n + 3u));
    }
    workgroupBarrier();

    for (var k = 0u; k < TILE_K; k++) {
      let aCol = tileA[k * (TILE_M / 4u) + local.y];  // A[4 rows][k]
      let bRow = tileB[k * (TILE_N / 4u) + local.x];  // B[k][4 columns]
      acc[0] = fma(vec4f(aCol.x), bRow, acc[0]);
      acc[1] = fma(vec4f(aCol.y), bRow, acc[1]);
      acc[2] = fma(vec4f(aCol.z), bRow, acc[2]);
      acc[3] = fma(vec4f(aCol.w), bRow, acc[3]);
    }
    workgroupBarrier();
  }

  let col = colBase + local.x * 4u;
  for (var r = 0u; r < 4u; r++) {
    let row = rowBase + local.y * 4u + r;
    if (row >= dims.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col + j >= dims.N) { break; }
#if ${BIAS}
      c[row * dims.N + col + j] = acc[r][j] + bias[col + j];
#else
      c[row * dims.N + col + j] = acc[r][j];
#endif
    }
  }
}
