//! Full-catalog retrieval: which items score highest against a session vector.
//!
//! The f32 table (11 MB for 43k × 64) does not fit in cache, so a full scan is
//! memory-bound. We scan an int8 copy (4× fewer bytes, per-row scales) with
//! SIMD, keep a generous shortlist, then rescore the shortlist exactly in f32.

use crate::int8::{quantize_row, quantize_rows};
use std::borrow::Cow;
use std::cmp::Ordering;

/// A scored row; ordered by score (ties by lower row first).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub row: u32,
    pub score: f32,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score.total_cmp(&other.score).then_with(|| other.row.cmp(&self.row))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the best `k` of a stream of scores: candidates above the running
/// threshold go into a buffer of 2k; when it fills, a linear-time selection
/// keeps the best k and raises the threshold. Cheaper per candidate than a
/// heap (measured: the heap's sift-downs were 40% of a retail scan).
struct TopK {
    k: usize,
    buf: Vec<Scored>,
    threshold: f32,
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK { k, buf: Vec::with_capacity(2 * k.max(1)), threshold: f32::NEG_INFINITY }
    }

    /// Lowest score that could still enter.
    #[inline]
    fn threshold(&self) -> f32 {
        self.threshold
    }

    #[inline]
    fn push(&mut self, s: Scored) {
        if self.k == 0 || s.score < self.threshold {
            return;
        }
        self.buf.push(s);
        if self.buf.len() == 2 * self.k {
            self.keep_best();
            self.threshold = self.buf[self.k - 1].score;
        }
    }

    /// Keep the best k in `buf[..k]` (unordered but with the k-th best last).
    fn keep_best(&mut self) {
        if self.buf.len() > self.k {
            self.buf.select_nth_unstable_by(self.k - 1, |a, b| b.cmp(a));
            self.buf.truncate(self.k);
        }
    }

    /// Best first.
    fn into_sorted(mut self) -> Vec<Scored> {
        self.buf.sort_unstable_by(|a, b| b.cmp(a));
        self.buf.truncate(self.k);
        self.buf
    }
}

/// Cosine similarity from a dot product and the two lengths; 0 where a
/// length is 0 (an all-zero row) rather than NaN.
pub fn cosine(dot: f32, norm_a: f32, norm_b: f32) -> f32 {
    let lengths = norm_a * norm_b;
    if lengths > 0.0 && lengths.is_finite() {
        (dot / lengths).clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Exact f32 dot product.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators let the compiler vectorise the loop.
    let mut acc = [0f32; 8];
    let chunks = a.len() / 8 * 8;
    for (ca, cb) in a[..chunks].chunks_exact(8).zip(b[..chunks].chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += ca[i] * cb[i];
        }
    }
    let tail: f32 = a[chunks..].iter().zip(&b[chunks..]).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// The embedding table, row-major `[rows, dim]`: f32 rows with an int8
/// copy for the scan, or, for a bundle stored as int8, the int8 rows alone
/// (they are then the table itself, so rescoring from them is exact and
/// the 4× larger f32 copy is never held).
#[derive(Debug, Clone)]
pub struct ItemTable {
    dim: usize,
    rows: usize,
    /// `None` when the int8 rows are the table.
    values: Option<Vec<f32>>,
    quantized: Vec<i8>,
    /// Per-row dequantisation scale: `value ≈ quantized * scale`.
    scales: Vec<f32>,
}

impl ItemTable {
    /// `values.len()` must be `rows * dim` (the bundle reader guarantees it).
    pub fn new(values: Vec<f32>, dim: usize) -> ItemTable {
        let rows = values.len().checked_div(dim).unwrap_or(0);
        let (quantized, scales) = quantize_rows(&values[..rows * dim], dim);
        ItemTable { dim, rows, values: Some(values), quantized, scales }
    }

    /// A table stored as int8 codes with one scale per row (`value = code *
    /// scale`); `codes.len()` must be `scales.len() * dim`.
    pub fn from_int8(codes: Vec<i8>, scales: Vec<f32>, dim: usize) -> ItemTable {
        ItemTable { dim, rows: scales.len(), values: None, quantized: codes, scales }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Append a row (`row.len()` must be `dim`), held the way the table
    /// holds the others; returns its index.
    pub fn push_row(&mut self, row: &[f32]) -> u32 {
        let mut codes = vec![0i8; self.dim];
        let scale = quantize_row(row, &mut codes);
        self.quantized.extend_from_slice(&codes);
        self.scales.push(scale);
        if let Some(values) = &mut self.values {
            values.extend_from_slice(row);
        }
        self.rows += 1;
        self.rows as u32 - 1
    }

    /// Replace a row's values (`row < rows`, `values.len() == dim`).
    pub fn set_row(&mut self, row: u32, values: &[f32]) {
        let start = row as usize * self.dim;
        self.scales[row as usize] = quantize_row(values, &mut self.quantized[start..start + self.dim]);
        if let Some(v) = &mut self.values {
            v[start..start + self.dim].copy_from_slice(values);
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    fn codes(&self, row: u32) -> &[i8] {
        let start = row as usize * self.dim;
        &self.quantized[start..start + self.dim]
    }

    /// One row as f32 (decoded when the table is int8).
    pub fn row(&self, row: u32) -> Cow<'_, [f32]> {
        let start = row as usize * self.dim;
        match &self.values {
            Some(v) => Cow::Borrowed(&v[start..start + self.dim]),
            None => {
                let scale = self.scales[row as usize];
                Cow::Owned(self.codes(row).iter().map(|&c| c as f32 * scale).collect())
            }
        }
    }

    pub fn score(&self, query: &[f32], row: u32) -> f32 {
        match &self.values {
            Some(_) => dot(query, &self.row(row)),
            None => {
                let codes = self.codes(row);
                query.iter().zip(codes).map(|(q, &c)| q * c as f32).sum::<f32>() * self.scales[row as usize]
            }
        }
    }

    /// Euclidean length of a row (never 0, so it can divide).
    pub fn norm(&self, row: u32) -> f32 {
        let length = match &self.values {
            Some(_) => {
                let r = self.row(row);
                dot(&r, &r).sqrt()
            }
            None => sum_of_squares(self.codes(row)).sqrt() * self.scales[row as usize],
        };
        length.max(f32::MIN_POSITIVE)
    }

    /// The `k` best rows for `query` over the whole table, exact scores,
    /// best first, skipping rows for which `skip` is true.
    pub fn top_k(&self, query: &[f32], k: usize, skip: impl Fn(u32) -> bool) -> Vec<Scored> {
        // The int8 scan's ranking error is small; a shortlist of 4k + 32
        // rescored exactly recovers the exact top-k in practice (see tests).
        let shortlist = self.scan_int8(query, 4 * k + 32, &skip);
        let mut exact = TopK::new(k);
        for s in shortlist {
            exact.push(Scored { row: s.row, score: self.score(query, s.row) });
        }
        exact.into_sorted()
    }

    /// Approximate scan over the int8 table, four rows at a time.
    fn scan_int8(&self, query: &[f32], k: usize, skip: &impl Fn(u32) -> bool) -> Vec<Scored> {
        let mut q = vec![0i8; self.dim];
        let q_scale = quantize_row(query, &mut q);
        let q16: Vec<i16> = q.iter().map(|&x| x as i16).collect();
        let mut top = TopK::new(k);
        let mut threshold = f32::NEG_INFINITY;
        let mut offer = |row: usize, dot: i32| {
            let score = dot as f32 * self.scales[row] * q_scale;
            if score > threshold && !skip(row as u32) {
                top.push(Scored { row: row as u32, score });
                threshold = top.threshold();
            }
        };
        let block = BLOCK * self.dim;
        let full_blocks = self.rows / BLOCK;
        for (b, codes) in self.quantized.chunks_exact(block).enumerate() {
            let dots = int_dots_block(&q16, codes, self.dim);
            for (i, &dot) in dots.iter().enumerate() {
                offer(BLOCK * b + i, dot);
            }
        }
        for row in BLOCK * full_blocks..self.rows {
            let codes = &self.quantized[row * self.dim..(row + 1) * self.dim];
            offer(row, int_dot(&q16, codes));
        }
        top.into_sorted()
    }
}

/// Sum of squares of int8 codes (an int8 row's norm without decoding it).
fn sum_of_squares(codes: &[i8]) -> f32 {
    codes.iter().map(|&c| (c as i32 * c as i32) as f32).sum()
}

fn int_dot(q: &[i16], codes: &[i8]) -> i32 {
    q.iter().zip(codes).map(|(&a, &b)| a as i32 * b as i32).sum()
}

/// Rows scored together by the int8 kernel.
const BLOCK: usize = 8;

/// Integer dot products of an i16 query with `BLOCK` consecutive i8 rows
/// (`codes` holds `BLOCK * dim` values). Several rows at once amortise the
/// query loads and give the CPU independent accumulation chains.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
fn int_dots_block(q: &[i16], codes: &[i8], dim: usize) -> [i32; BLOCK] {
    use core::arch::wasm32::*;
    // SIMD over the first multiple of 8 of the dimensions, scalar on the
    // rest (d = 100 has a tail of 4; a scalar row would cost 3x).
    let body = dim - dim % 8;
    let mut acc = [i32x4_splat(0); BLOCK];
    let base = codes.as_ptr();
    let mut i = 0;
    while i < body {
        // SAFETY: i + 8 <= body <= dim, q has dim entries and codes BLOCK * dim;
        // the loads are unaligned-safe.
        unsafe {
            let qv = v128_load(q.as_ptr().add(i) as *const v128);
            for (r, a) in acc.iter_mut().enumerate() {
                let c = i16x8_load_extend_i8x8(base.add(r * dim + i));
                *a = i32x4_add(*a, i32x4_dot_i16x8(c, qv));
            }
        }
        i += 8;
    }
    let mut out = [0i32; BLOCK];
    for (o, quad) in out.chunks_exact_mut(4).zip(acc.chunks_exact(4)) {
        o.copy_from_slice(&horizontal_sums(quad[0], quad[1], quad[2], quad[3]));
    }
    if body < dim {
        for (r, o) in out.iter_mut().enumerate() {
            *o += int_dot(&q[body..], &codes[r * dim + body..(r + 1) * dim]);
        }
    }
    out
}

/// The lane sums of four i32x4 vectors.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline]
fn horizontal_sums(
    a: core::arch::wasm32::v128,
    b: core::arch::wasm32::v128,
    c: core::arch::wasm32::v128,
    d: core::arch::wasm32::v128,
) -> [i32; 4] {
    use core::arch::wasm32::*;
    let ab = i32x4_add(i32x4_shuffle::<0, 4, 2, 6>(a, b), i32x4_shuffle::<1, 5, 3, 7>(a, b));
    let cd = i32x4_add(i32x4_shuffle::<0, 4, 2, 6>(c, d), i32x4_shuffle::<1, 5, 3, 7>(c, d));
    let sums = i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd));
    [
        i32x4_extract_lane::<0>(sums),
        i32x4_extract_lane::<1>(sums),
        i32x4_extract_lane::<2>(sums),
        i32x4_extract_lane::<3>(sums),
    ]
}

/// The same kernel on x86-64 with SSE2, which every x86-64 CPU has (so no
/// runtime detection): codes widened to i16 by unpack and shift, then
/// `pmaddwd`, the native twin of `i32x4_dot_i16x8`.
#[cfg(target_arch = "x86_64")]
#[inline]
fn int_dots_block(q: &[i16], codes: &[i8], dim: usize) -> [i32; BLOCK] {
    use core::arch::x86_64::*;
    let body = dim - dim % 8;
    let mut out = [0i32; BLOCK];
    // SAFETY: SSE2 is part of x86-64; every load reads 8 i16 of q at i + 8 <= body <= dim
    // or 8 i8 of one row at r * dim + i + 8 <= (r + 1) * dim, all unaligned loads.
    unsafe {
        let mut acc = [_mm_setzero_si128(); BLOCK];
        let base = codes.as_ptr();
        let mut i = 0;
        while i < body {
            let qv = _mm_loadu_si128(q.as_ptr().add(i) as *const __m128i);
            for (r, a) in acc.iter_mut().enumerate() {
                let bytes = _mm_loadl_epi64(base.add(r * dim + i) as *const __m128i);
                let wide = _mm_srai_epi16::<8>(_mm_unpacklo_epi8(bytes, bytes));
                *a = _mm_add_epi32(*a, _mm_madd_epi16(wide, qv));
            }
            i += 8;
        }
        for (o, a) in out.iter_mut().zip(acc) {
            let pairs = _mm_add_epi32(a, _mm_shuffle_epi32::<0b01_00_11_10>(a));
            *o = _mm_cvtsi128_si32(_mm_add_epi32(pairs, _mm_shuffle_epi32::<0b10_11_00_01>(pairs)));
        }
    }
    if body < dim {
        for (r, o) in out.iter_mut().enumerate() {
            *o += int_dot(&q[body..], &codes[r * dim + body..(r + 1) * dim]);
        }
    }
    out
}

#[cfg(not(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64")))]
#[inline]
fn int_dots_block(q: &[i16], codes: &[i8], dim: usize) -> [i32; BLOCK] {
    int_dots_block_scalar(q, codes, dim)
}

/// The portable kernel: what the SIMD ones must equal.
#[cfg_attr(any(all(target_arch = "wasm32", target_feature = "simd128"), target_arch = "x86_64"), allow(dead_code))]
fn int_dots_block_scalar(q: &[i16], codes: &[i8], dim: usize) -> [i32; BLOCK] {
    std::array::from_fn(|r| int_dot(q, &codes[r * dim..(r + 1) * dim]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random_table(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut x = seed;
        (0..rows * dim)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 20_000) as f32 / 10_000.0 - 1.0
            })
            .collect()
    }

    fn brute_force(table: &ItemTable, q: &[f32], k: usize, skip: impl Fn(u32) -> bool) -> Vec<u32> {
        let mut all: Vec<Scored> = (0..table.rows() as u32)
            .filter(|r| !skip(*r))
            .map(|r| Scored { row: r, score: table.score(q, r) })
            .collect();
        all.sort_by(|a, b| b.cmp(a));
        all.into_iter().take(k).map(|s| s.row).collect()
    }

    #[test]
    fn int8_scan_with_rescoring_finds_the_exact_top_k() {
        let dim = 64;
        let table = ItemTable::new(pseudo_random_table(20_000, dim, 7), dim);
        for seed in 1..20 {
            let q = pseudo_random_table(1, dim, seed * 31);
            let got: Vec<u32> = table.top_k(&q, 20, |_| false).iter().map(|s| s.row).collect();
            assert_eq!(got, brute_force(&table, &q, 20, |_| false), "query {seed}");
        }
    }

    #[test]
    fn skipped_rows_never_appear() {
        let dim = 16;
        let table = ItemTable::new(pseudo_random_table(500, dim, 3), dim);
        let q = pseudo_random_table(1, dim, 99);
        let skip = |r: u32| r.is_multiple_of(2);
        let got: Vec<u32> = table.top_k(&q, 10, skip).iter().map(|s| s.row).collect();
        assert_eq!(got, brute_force(&table, &q, 10, skip));
        assert!(got.iter().all(|r| !r.is_multiple_of(2)));
    }

    #[test]
    fn dimensions_off_the_simd_width_and_ragged_blocks_are_exact() {
        for (rows, dim) in [(1001, 12), (13, 64), (3, 8), (2000, 100), (17, 4)] {
            let table = ItemTable::new(pseudo_random_table(rows, dim, 5), dim);
            let q = pseudo_random_table(1, dim, 77);
            let got: Vec<u32> = table.top_k(&q, 7, |_| false).iter().map(|s| s.row).collect();
            assert_eq!(got, brute_force(&table, &q, 7, |_| false), "{rows} x {dim}");
        }
    }

    #[test]
    fn an_int8_only_table_ranks_and_scores_as_its_decoded_f32_rows() {
        let dim = 100;
        let original = ItemTable::new(pseudo_random_table(3000, dim, 11), dim);
        let int8 = ItemTable::from_int8(original.quantized.clone(), original.scales.clone(), dim);
        let decoded: Vec<f32> = (0..3000).flat_map(|r| int8.row(r).into_owned()).collect();
        let f32_table = ItemTable::new(decoded, dim);
        for seed in 1..10 {
            let q = pseudo_random_table(1, dim, seed * 13);
            let a: Vec<u32> = int8.top_k(&q, 20, |_| false).iter().map(|s| s.row).collect();
            assert_eq!(a, brute_force(&f32_table, &q, 20, |_| false), "query {seed}");
            for r in [0, 17, 2999] {
                assert!((int8.score(&q, r) - f32_table.score(&q, r)).abs() < 1e-4);
                assert!((int8.norm(r) - f32_table.norm(r)).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn the_simd_kernel_equals_the_scalar_one_at_the_extremes() {
        let mut x = 12345u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for dim in [1, 4, 7, 8, 9, 16, 64, 100, 257] {
            for extreme in [false, true] {
                // Extremes: every code and query value at its bound (i8 −128 / 127, query ±127).
                let codes: Vec<i8> = (0..BLOCK * dim)
                    .map(|_| if extreme { [-128i8, 127][(next() % 2) as usize] } else { (next() % 256) as u8 as i8 })
                    .collect();
                let q: Vec<i16> = (0..dim)
                    .map(|_| if extreme { [-127i16, 127][(next() % 2) as usize] } else { (next() % 255) as i16 - 127 })
                    .collect();
                assert_eq!(int_dots_block(&q, &codes, dim), int_dots_block_scalar(&q, &codes, dim), "dim {dim}");
            }
        }
    }

    #[test]
    fn k_larger_than_the_table_returns_every_row() {
        let table = ItemTable::new(pseudo_random_table(5, 8, 1), 8);
        assert_eq!(table.top_k(&[1.0; 8], 50, |_| false).len(), 5);
        assert!(table.top_k(&[1.0; 8], 0, |_| false).is_empty());
    }
}
