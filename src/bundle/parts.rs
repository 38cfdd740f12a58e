//! What a bundle holds, in memory: the manifest, the item table (in the form
//! it is stored), the encoder's bytes, co-purchase statistics, item
//! attributes and the policy.

use super::manifest::Manifest;
use super::pq;
use super::table::{values, Int8Rows, TableFormat};
use std::borrow::Cow;

/// How a bundle stores its encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderFormat {
    /// An uncompressed tar of tract's NNEF graph and weights (what `build` writes).
    Nnef,
    /// The ONNX file as exported (older bundles; readable with the `onnx` feature).
    Onnx,
}

/// An encoder's bytes and the form they are in.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderBytes {
    pub format: EncoderFormat,
    pub bytes: Vec<u8>,
}

/// Co-purchase neighbours in CSR form: the neighbours of item `i` are
/// `neighbors[offsets[i]..offsets[i + 1]]`, by descending confidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CoPurchase {
    pub offsets: Vec<u32>,
    pub neighbors: Vec<u32>,
    /// Number of sessions containing both items.
    pub support: Vec<u32>,
    /// P(neighbour | item) (derived from the counts in format 2).
    pub confidence: Vec<f32>,
    /// confidence / P(neighbour).
    pub lift: Vec<f32>,
}

impl CoPurchase {
    /// Range into the neighbour arrays for `item` (valid after validation).
    pub fn range(&self, item: usize) -> std::ops::Range<usize> {
        self.offsets[item] as usize..self.offsets[item + 1] as usize
    }
}

/// Per-item attributes used by ranking and (later) the offer policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemAttributes {
    pub price: Vec<f32>,
    /// Index into `Manifest::categories`.
    pub category: Vec<u32>,
    /// Gross margin as a fraction of price (0..=1).
    pub margin: Vec<f32>,
    pub in_stock: Vec<u8>,
    /// Share of sessions containing the item (0..=1).
    pub popularity: Vec<f32>,
    /// Sessions containing the item: what format 2 stores (with
    /// `Manifest::sessions`) and `popularity` is derived from.
    pub item_sessions: Vec<u32>,
}

/// A bundle in memory, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub manifest: Manifest,
    /// The store's default offer policy, kept as JSON text.
    pub policy_json: String,
    /// Row-major `[item_count, dim]` f32 rows; empty when `int8_rows` holds
    /// the table (see `table_values`).
    pub embeddings: Vec<f32>,
    /// An int8 table as stored, kept as it is: the engine scans and scores
    /// these codes directly rather than holding a 4× larger f32 copy.
    pub int8_rows: Option<Int8Rows>,
    /// A product-quantised table as stored (`int8_rows` then holds its
    /// decoded rows), kept so that rewriting the bundle keeps the same codes.
    pub product_codes: Option<pq::ProductCodes>,
    /// How the table is stored in the bundle's bytes.
    pub table_format: TableFormat,
    pub encoder: EncoderBytes,
    pub copurchase: CoPurchase,
    pub attributes: ItemAttributes,
}

impl Bundle {
    /// The table as f32 rows, whichever way it is held.
    pub fn table_values(&self) -> Cow<'_, [f32]> {
        values(&self.embeddings, self.int8_rows.as_ref(), self.manifest.dim)
    }
}
