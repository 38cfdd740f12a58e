//! Product quantisation of the item table (table format `pqN`): each row is
//! cut into pieces of N dimensions and each piece is replaced by the index of
//! the nearest of 256 centroids learned for its subspace, one byte a piece
//! (`pq4`: 25 bytes a row instead of 100 for d = 100, a sixteenth of f32).
//! Each row's length is stored beside its codes (f16) and a decoded row is
//! rescaled to it: averaging centroids shrinks rows unevenly, and a dot
//! product ranking feels that (on Diginetica, pq4 lost 0.74 pt of Recall@20
//! without the lengths, 0.38 with them; models/diginetica/MODEL_CARD.md).
//! It is the download format only: the reader decodes the rows and the engine
//! scans them as int8, as it does every table.

use std::ops::Range;

/// Dimensions per subspace of plain `pq`.
pub const DEFAULT_SUB_DIM: usize = 4;
/// Widest subspace a bundle may declare.
pub const MAX_SUB_DIM: usize = 16;
/// Centroids per subspace (one byte a code).
pub const CENTROIDS: usize = 256;
/// Rows k-means learns from (a deterministic sample on larger tables, so a
/// million-item build stays in seconds; assignment still covers every row).
const TRAIN_ROWS: usize = 65_536;
/// Lloyd iterations after the k-means++ start.
const ITERATIONS: usize = 12;

/// A table as product codes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductCodes {
    /// Dimensions per subspace.
    pub sub_dim: usize,
    /// `[rows, subspaces(dim, sub_dim)]`.
    pub codes: Vec<u8>,
    /// `[CENTROIDS, dim]`: row `c` holds centroid `c` of every subspace side
    /// by side, so subspace `s` of it is `codebook[c * dim..][bounds(..)]`
    /// (stored as f16).
    pub codebook: Vec<f32>,
    /// Each row's Euclidean length (`[rows]`, stored as f16).
    pub norms: Vec<f32>,
}

pub fn subspaces(dim: usize, sub_dim: usize) -> usize {
    dim.div_ceil(sub_dim.max(1))
}

/// The dimensions subspace `s` covers (the last may be narrower).
fn bounds(dim: usize, sub_dim: usize, s: usize) -> Range<usize> {
    s * sub_dim..((s + 1) * sub_dim).min(dim)
}

/// The subspace width that `m` codes a row mean for `dim`, if any does.
pub fn sub_dim_of(dim: usize, m: usize) -> Option<usize> {
    let sub_dim = dim.checked_div(m)?.max(1);
    (1..=MAX_SUB_DIM).find(|&w| w >= sub_dim && subspaces(dim, w) == m)
}

impl ProductCodes {
    /// Learn a codebook for row-major `values` (`rows * dim`) and encode every row.
    pub fn train(values: &[f32], dim: usize, sub_dim: usize) -> ProductCodes {
        let rows = values.len().checked_div(dim).unwrap_or(0);
        let m = subspaces(dim, sub_dim);
        let mut codes = vec![0u8; rows * m];
        let mut codebook = vec![0f32; CENTROIDS * dim];
        let sample = sample_rows(rows);
        for s in 0..m {
            let span = bounds(dim, sub_dim, s);
            let width = span.len();
            let piece = |row: usize| &values[row * dim + span.start..row * dim + span.end];
            let points: Vec<f32> = sample.iter().flat_map(|&r| piece(r).iter().copied()).collect();
            let centroids = kmeans(&points, width);
            for (c, centroid) in centroids.chunks_exact(width).enumerate() {
                for (slot, &v) in codebook[c * dim + span.start..c * dim + span.end].iter_mut().zip(centroid) {
                    *slot = half::f16::from_f32(v).to_f32();
                }
            }
            for row in 0..rows {
                codes[row * m + s] = nearest(piece(row), &centroids, width).0 as u8;
            }
        }
        let norms = values.chunks_exact(dim.max(1)).map(|row| half::f16::from_f32(length(row)).to_f32()).collect();
        ProductCodes { sub_dim, codes, codebook, norms }
    }

    /// The rows the codes stand for (`rows * dim` values).
    pub fn decode(&self, dim: usize) -> Vec<f32> {
        let mut out = vec![0f32; self.rows(dim) * dim];
        for (row, slot) in out.chunks_exact_mut(dim.max(1)).enumerate() {
            self.decode_row(row, slot);
        }
        out
    }

    pub fn rows(&self, dim: usize) -> usize {
        self.codes.len() / subspaces(dim, self.sub_dim).max(1)
    }

    /// Row `row` into `out` (`dim` values): its centroids, rescaled to its length.
    pub fn decode_row(&self, row: usize, out: &mut [f32]) {
        let dim = out.len();
        let m = subspaces(dim, self.sub_dim);
        for (s, &c) in self.codes[row * m..(row + 1) * m].iter().enumerate() {
            let span = bounds(dim, self.sub_dim, s);
            let base = c as usize * dim;
            out[span.clone()].copy_from_slice(&self.codebook[base + span.start..base + span.end]);
        }
        let scale = self.norms[row] / length(out).max(f32::MIN_POSITIVE);
        out.iter_mut().for_each(|v| *v *= scale);
    }
}

fn length(row: &[f32]) -> f32 {
    row.iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// Which rows k-means learns from: all of them, or an even spread of `TRAIN_ROWS`.
fn sample_rows(rows: usize) -> Vec<usize> {
    if rows <= TRAIN_ROWS {
        (0..rows).collect()
    } else {
        (0..TRAIN_ROWS).map(|i| i * rows / TRAIN_ROWS).collect()
    }
}

/// The nearest centroid to `x` and its squared distance.
fn nearest(x: &[f32], centroids: &[f32], width: usize) -> (usize, f32) {
    let mut best = (0, f32::INFINITY);
    for (c, centroid) in centroids.chunks_exact(width).enumerate() {
        let d: f32 = x.iter().zip(centroid).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// `CENTROIDS` centroids (`CENTROIDS * width` values) of `points`: k-means++
/// seeding from a fixed-seed generator (a build is reproducible), then Lloyd
/// steps; a centroid left without points keeps its place. With fewer points
/// than centroids the spare ones repeat the last point, never chosen twice.
fn kmeans(points: &[f32], width: usize) -> Vec<f32> {
    let n = points.len() / width;
    let mut centroids = Vec::with_capacity(CENTROIDS * width);
    if n == 0 {
        return vec![0.0; CENTROIDS * width];
    }
    let point = |i: usize| &points[i * width..(i + 1) * width];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    centroids.extend_from_slice(point(0));
    let mut dist: Vec<f32> = (0..n).map(|i| nearest(point(i), &centroids, width).1).collect();
    while centroids.len() < CENTROIDS * width {
        let total: f64 = dist.iter().map(|&d| d as f64).sum();
        let chosen = if total > 0.0 {
            let mut target = next() * total;
            dist.iter().position(|&d| {
                target -= d as f64;
                target <= 0.0
            })
        } else {
            None
        };
        let chosen = chosen.unwrap_or(n - 1);
        let new = point(chosen).to_vec();
        for (i, d) in dist.iter_mut().enumerate() {
            let to_new: f32 = point(i).iter().zip(&new).map(|(a, b)| (a - b) * (a - b)).sum();
            *d = d.min(to_new);
        }
        centroids.extend_from_slice(&new);
    }
    let mut sums = vec![0f64; CENTROIDS * width];
    let mut counts = vec![0usize; CENTROIDS];
    for _ in 0..ITERATIONS {
        sums.fill(0.0);
        counts.fill(0);
        for i in 0..n {
            let c = nearest(point(i), &centroids, width).0;
            counts[c] += 1;
            for (sum, &x) in sums[c * width..(c + 1) * width].iter_mut().zip(point(i)) {
                *sum += x as f64;
            }
        }
        for (c, &count) in counts.iter().enumerate() {
            if count > 0 {
                for j in 0..width {
                    centroids[c * width + j] = (sums[c * width + j] / count as f64) as f32;
                }
            }
        }
    }
    centroids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: usize, dim: usize) -> Vec<f32> {
        let mut x = 7u64;
        (0..rows * dim)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect()
    }

    #[test]
    fn codes_decode_close_to_the_rows_and_reproducibly() {
        let dim = 10; // two full subspaces and a narrow one
        let values = table(2_000, dim);
        let pq = ProductCodes::train(&values, dim, 4);
        assert_eq!(pq.codes.len(), 2_000 * 3);
        let back = pq.decode(dim);
        assert_eq!(back.len(), values.len());
        let err: f32 = values.iter().zip(&back).map(|(a, b)| (a - b) * (a - b)).sum();
        let energy: f32 = values.iter().map(|a| a * a).sum();
        assert!(err / energy < 0.12, "relative squared error {}", err / energy);
        assert!(err > 0.0);
        assert_eq!(ProductCodes::train(&values, dim, 4), pq);
        let finer = ProductCodes::train(&values, dim, 2).decode(dim);
        let finer_err: f32 = values.iter().zip(&finer).map(|(a, b)| (a - b) * (a - b)).sum();
        assert!(finer_err < err, "2-dimension pieces should lose less than 4: {finer_err} vs {err}");
    }

    #[test]
    fn code_counts_name_their_subspace_width() {
        assert_eq!(sub_dim_of(100, 25), Some(4));
        assert_eq!(sub_dim_of(100, 34), Some(3));
        assert_eq!(sub_dim_of(64, 16), Some(4));
        assert_eq!(sub_dim_of(100, 0), None);
        assert_eq!(sub_dim_of(100, 3), None); // would need 34 dimensions a piece
        assert_eq!(sub_dim_of(10, 20), None);
    }

    #[test]
    fn fewer_rows_than_centroids_are_kept_exactly() {
        let dim = 6;
        let values = table(40, dim);
        let back = ProductCodes::train(&values, dim, 4).decode(dim);
        assert!(values.iter().zip(&back).all(|(a, b)| (a - b).abs() < 2e-3));
    }
}
