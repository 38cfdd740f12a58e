//! The model bundle: one safetensors file a store ships to its CDN (docs/design.md §4).
//!
//! `read` validates everything at the boundary and returns a typed error;
//! past it, the rest of the engine trusts the data (ids in range, finite).

mod bytes;
mod checksum;
mod manifest;
pub mod pq;
pub(crate) mod read;
pub mod stats;
mod table;
mod version;
mod write;

pub use bytes::{f32s_from_le, i64s_from_le, narrow_uints, u32s_from_le, uints_from_le};
pub use checksum::checksum_hex;
pub use manifest::{EncoderSpec, Manifest, ModelCard, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
pub use table::{Int8Rows, TableFormat};
pub use version::{is_version, short as short_version, version_of};

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

/// Names of the tensors inside a bundle.
pub mod tensor_names {
    pub const EMBEDDINGS: &str = "item_embeddings";
    /// Per-row scales of an int8 table.
    pub const EMBEDDING_SCALES: &str = "item_embeddings_scale";
    /// A product-quantised table (format `pq`, instead of `EMBEDDINGS`):
    /// u8 codes `[n, subspaces]`, the f32 codebook `[256, dim]` and each
    /// row's length, f16 `[n]`.
    pub const PQ_CODES: &str = "item_embeddings_pq_codes";
    pub const PQ_CODEBOOK: &str = "item_embeddings_pq_codebook";
    pub const PQ_NORMS: &str = "item_embeddings_pq_norms";
    /// The encoder as tract NNEF (a tar), what `edgerec build` writes.
    pub const ENCODER_NNEF: &str = "encoder_nnef";
    /// The encoder as exported ONNX (older bundles; exactly one of the two).
    pub const ENCODER_ONNX: &str = "encoder_onnx";
    pub const CP_OFFSETS: &str = "copurchase_offsets";
    pub const CP_NEIGHBORS: &str = "copurchase_neighbors";
    pub const CP_SUPPORT: &str = "copurchase_support";
    pub const CP_CONFIDENCE: &str = "copurchase_confidence";
    pub const CP_LIFT: &str = "copurchase_lift";
    pub const PRICE: &str = "item_price";
    pub const CATEGORY: &str = "item_category";
    pub const MARGIN: &str = "item_margin";
    pub const IN_STOCK: &str = "item_in_stock";
    /// Format 1 only (format 2 derives it from `ITEM_SESSIONS`).
    pub const POPULARITY: &str = "item_popularity";
    /// Sessions containing each item (format 2).
    pub const ITEM_SESSIONS: &str = "item_sessions";
}

/// Metadata keys (safetensors `__metadata__`).
pub mod meta_keys {
    pub const MANIFEST: &str = "edgerec.manifest";
    pub const POLICY: &str = "edgerec.policy";
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
