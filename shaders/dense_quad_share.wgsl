// Quad-shared loads, for dense's rungs 3 and 4: which block of the workgroup's tile each invocation of a
// quad (subgroup lanes 4q … 4q+3) owns, which half of the shared operand rows it loads, and how it takes
// the other halves from its partners. Included, never compiled alone (the including file enables subgroups).

#include quads

// Where local invocation `local` puts its block (`block`: columns × rows, 8×8, or 16×32 for the wide entry
// points) in the workgroup's tile (column, row): the quad of invocations 4m … 4m+3 covers 2×2 blocks, bit 0
// of `local` picking the column half, bit 1 the row half. So the invocations local ^ 1 share the rows and
// local ^ 2 share the columns.
fn quadBlock(local: u32, block: vec2u) -> vec2u {
  let quad = local / 4u;
  let quadsAcross = TILE_X / 2u;
  return vec2u((quad % quadsAcross) * 2u + (local & 1u), (quad / quadsAcross) * 2u + (local & 2u) / 2u) * block;
}

// The halves of `block` indices from `first`, the one this invocation loads first: of the two invocations
// that share these indices, the one with `bit` of `local` set loads the upper half, the other the lower.
fn splitHalves(first: u32, block: u32, local: u32, bit: u32) -> vec2u {
  let mine = select(0u, block / 2u, (local & bit) != 0u);
  return vec2u(first + mine, first + block / 2u - mine);
}

// This invocation's block of the workgroup's tile (`block`: columns × rows): its columns (shared with
// invocation local ^ 2) and rows (shared with local ^ 1) as the starts of two halves (4 indices each; wide
// blocks: 8 columns, 16 rows), and the block's first column and row.
struct QuadHalves { columns: vec2u, rows: vec2u, first: vec2u }

fn quadHalves(group: vec2u, local: u32, block: vec2u) -> QuadHalves {
  let at = group * vec2u(WG_X, WG_Y) * block + quadBlock(local, block);
  return QuadHalves(splitHalves(at.x, block.x, local, 2u), splitHalves(at.y, block.y, local, 1u), at);
}

// Sets quadError (above) for this invocation.
fn checkQuads(local: u32, lane: u32) {
  let nanBits = 0x7fc00000u;  // a let: WGSL rejects a NaN computed at compile time
  quadError = select(bitcast<f32>(nanBits), 0.0, quadsAligned(local, lane));
}

// The matrix of the partner across (lane ^ 1) and along (lane ^ 2) the quad. The sums call them in loops
// over the steps of their slice, which WGSL's uniformity analysis takes as non-uniform (`slice` is a private
// variable), though it is the workgroup's z: hence the diagnostic filters.
@diagnostic(off, subgroup_uniformity)
fn partnerX(mine: mat4x4f) -> mat4x4f {
  return mat4x4f(quadSwapX(mine[0]), quadSwapX(mine[1]), quadSwapX(mine[2]), quadSwapX(mine[3]));
}
@diagnostic(off, subgroup_uniformity)
fn partnerY(mine: mat4x4f) -> mat4x4f {
  return mat4x4f(quadSwapY(mine[0]), quadSwapY(mine[1]), quadSwapY(mine[2]), quadSwapY(mine[3]));
}

