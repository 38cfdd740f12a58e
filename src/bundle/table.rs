//! How a bundle stores the item table: f32, f16 (half the bytes, decoded to
//! f32 on load) or int8 with one scale per row (a quarter, kept as int8 by
//! the engine), which is what a shopper downloads, or product-quantised
//! (`pq`, a sixteenth of f32, decoded on load; see `pq`).

use super::names::tensor_names as t;
use super::pq::{self, ProductCodes};
use crate::error::{Error, Result};
use crate::int8::{quantize_row, quantize_rows};
use half::f16;
use safetensors::tensor::Dtype;
use std::borrow::Cow;

/// Storage of `item_embeddings` (the int8 form adds `item_embeddings_scale`,
/// f32 `[n]`: `value = code * scale`), or of product codes (`pqN`: pieces of
/// N dimensions, tensors `item_embeddings_pq_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TableFormat {
    #[default]
    F32,
    F16,
    Int8,
    /// Dimensions per subspace.
    Pq(u8),
}

impl std::fmt::Display for TableFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableFormat::F32 => f.write_str("f32"),
            TableFormat::F16 => f.write_str("f16"),
            TableFormat::Int8 => f.write_str("int8"),
            TableFormat::Pq(w) => write!(f, "pq{w}"),
        }
    }
}

impl TableFormat {
    pub fn parse(name: &str) -> Result<TableFormat> {
        match name {
            "f32" => Ok(TableFormat::F32),
            "f16" => Ok(TableFormat::F16),
            "int8" => Ok(TableFormat::Int8),
            "pq" => Ok(TableFormat::Pq(pq::DEFAULT_SUB_DIM as u8)),
            other => other
                .strip_prefix("pq")
                .and_then(|w| w.parse::<u8>().ok())
                .filter(|&w| (1..=pq::MAX_SUB_DIM as u8).contains(&w))
                .map(TableFormat::Pq)
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "table format {other:?} is not one of f32, f16, int8, pq, pqN (N = 1..={})",
                        pq::MAX_SUB_DIM
                    ))
                }),
        }
    }

    /// Rows as they will read back from a bundle of this format, so a
    /// writer can hand the engine exactly what a reader will see.
    pub fn round_trip(self, values: &[f32], dim: usize) -> Vec<f32> {
        match self {
            TableFormat::F32 => values.to_vec(),
            TableFormat::F16 => values.iter().map(|&v| f16::from_f32(v).to_f32()).collect(),
            TableFormat::Int8 => {
                let (codes, scales) = quantize_rows(values, dim);
                from_int8(&codes, &scales, dim)
            }
            TableFormat::Pq(w) => {
                let Int8Rows { codes, scales } =
                    int8_from_product_codes(&ProductCodes::train(values, dim, w as usize), dim);
                from_int8(&codes, &scales, dim)
            }
        }
    }
}

/// The engine's rows of a product-quantised table: decoded, then held as
/// int8 like any compact table (the scan kernel is the same).
pub(super) fn int8_from_product_codes(product: &ProductCodes, dim: usize) -> Int8Rows {
    // Row by row: a decoded f32 table would be 4x the int8 one (256 MB at a
    // million items of d = 64).
    let rows = product.rows(dim);
    let mut codes = vec![0i8; rows * dim];
    let mut buffer = vec![0f32; dim];
    let scales = codes
        .chunks_exact_mut(dim.max(1))
        .enumerate()
        .map(|(row, out)| {
            product.decode_row(row, &mut buffer);
            quantize_row(&buffer, out)
        })
        .collect();
    Int8Rows { codes, scales }
}

/// An int8 table: `value = codes[row * dim + j] * scales[row]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Rows {
    pub codes: Vec<i8>,
    pub scales: Vec<f32>,
}

/// A table held in memory, to be stored as `format`: its f32 rows, or the
/// int8 rows and product codes it was read as (kept as they are).
pub(super) struct HeldTable<'a> {
    pub embeddings: &'a [f32],
    pub int8_rows: Option<&'a Int8Rows>,
    pub product_codes: Option<&'a ProductCodes>,
    pub format: TableFormat,
    pub dim: usize,
}

/// The stored tensors of a table: (name, dtype, shape, little-endian bytes).
pub(super) fn encode(table: HeldTable) -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
    let d = table.dim.max(1);
    if let (Some(q), TableFormat::Int8) = (table.int8_rows, table.format) {
        return int8_tensors(&q.codes, &q.scales, d);
    }
    if let (Some(p), TableFormat::Pq(w)) = (table.product_codes, table.format) {
        if p.sub_dim == w as usize {
            return pq_tensors(p, d);
        }
    }
    let values = values(table.embeddings, table.int8_rows, d);
    let shape = vec![values.len() / d, d];
    match table.format {
        TableFormat::F32 => {
            vec![(t::EMBEDDINGS, Dtype::F32, shape, values.iter().flat_map(|v| v.to_le_bytes()).collect())]
        }
        TableFormat::F16 => {
            let bytes = values.iter().flat_map(|&v| f16::from_f32(v).to_le_bytes()).collect();
            vec![(t::EMBEDDINGS, Dtype::F16, shape, bytes)]
        }
        TableFormat::Int8 => {
            let (codes, scales) = quantize_rows(&values, d);
            int8_tensors(&codes, &scales, d)
        }
        TableFormat::Pq(w) => pq_tensors(&ProductCodes::train(&values, d, w as usize), d),
    }
}

/// A table's f32 rows: `embeddings`, or its int8 rows decoded when it holds those.
pub(super) fn values<'a>(embeddings: &'a [f32], int8_rows: Option<&Int8Rows>, dim: usize) -> Cow<'a, [f32]> {
    match int8_rows {
        Some(q) => Cow::Owned(from_int8(&q.codes, &q.scales, dim.max(1))),
        None => Cow::Borrowed(embeddings),
    }
}

fn pq_tensors(p: &ProductCodes, d: usize) -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
    let m = pq::subspaces(d, p.sub_dim);
    let f16_bytes = |values: &[f32]| values.iter().flat_map(|&v| f16::from_f32(v).to_le_bytes()).collect();
    vec![
        (t::PQ_CODES, Dtype::U8, vec![p.codes.len() / m, m], p.codes.clone()),
        (t::PQ_CODEBOOK, Dtype::F16, vec![pq::CENTROIDS, d], f16_bytes(&p.codebook)),
        (t::PQ_NORMS, Dtype::F16, vec![p.norms.len()], f16_bytes(&p.norms)),
    ]
}

fn int8_tensors(codes: &[i8], scales: &[f32], d: usize) -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
    let rows = scales.len();
    vec![
        (t::EMBEDDINGS, Dtype::I8, vec![codes.len() / d, d], codes.iter().map(|&c| c as u8).collect()),
        (t::EMBEDDING_SCALES, Dtype::F32, vec![rows], scales.iter().flat_map(|v| v.to_le_bytes()).collect()),
    ]
}

/// f16 little-endian bytes → f32 rows.
pub(super) fn from_f16(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()).collect()
}

pub(super) fn from_int8(codes: &[i8], scales: &[f32], dim: usize) -> Vec<f32> {
    codes.chunks_exact(dim).zip(scales).flat_map(|(row, &s)| row.iter().map(move |&c| c as f32 * s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_refuse_unknown_names() {
        assert_eq!(TableFormat::parse("int8").unwrap(), TableFormat::Int8);
        assert_eq!(TableFormat::parse("pq").unwrap(), TableFormat::Pq(4));
        assert_eq!(TableFormat::parse("pq3").unwrap(), TableFormat::Pq(3));
        for format in [TableFormat::F32, TableFormat::F16, TableFormat::Int8, TableFormat::Pq(3)] {
            assert_eq!(TableFormat::parse(&format.to_string()).unwrap(), format);
        }
        for bad in ["pq0", "pq17", "pqx", "pq-1"] {
            assert!(matches!(TableFormat::parse(bad), Err(Error::InvalidInput(_))), "{bad}");
        }
        assert!(matches!(TableFormat::parse("bf16"), Err(Error::InvalidInput(_))));
    }

    #[test]
    fn compact_rows_stay_close_to_the_originals() {
        let dim = 100;
        let values: Vec<f32> = (0..dim * 50).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
        for (format, tolerance) in
            [(TableFormat::F16, 2e-4), (TableFormat::Int8, 0.5 / 127.0 * 0.5 + 1e-6), (TableFormat::Pq(2), 0.2)]
        {
            let back = format.round_trip(&values, dim);
            let worst = values.iter().zip(&back).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst <= tolerance, "{format:?}: worst error {worst}");
            assert!(worst > 0.0, "{format:?} should lose something on these values");
        }
        assert_eq!(TableFormat::F32.round_trip(&values, dim), values);
    }
}
