//! The bundle manifest: everything about the tensors that is not a tensor.

use crate::score::BlendWeights;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The bundle layout this engine writes. Format 2 stores co-purchase counts
/// (statistics derived on read), integers in their narrowest width and an
/// NNEF encoder; format 1 (float statistics, ONNX) is still read, so
/// `edgerec repack` can convert it.
pub const FORMAT_VERSION: u32 = 2;
/// The oldest layout this engine reads.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub item_count: usize,
    pub dim: usize,
    /// Longest item sequence the encoder is given (the last L items).
    pub max_seq_len: usize,
    pub encoder: EncoderSpec,
    /// External item ids, row `i` of every per-item tensor.
    pub item_ids: Vec<String>,
    /// Display titles, row by row; empty when the bundle carries no display
    /// data (a title is then the item id).
    pub titles: Vec<String>,
    /// Category names, indexed by the `item_category` tensor.
    pub categories: Vec<String>,
    /// Sessions the co-purchase statistics were mined from (format 2).
    #[serde(default)]
    pub sessions: u64,
    pub model_card: ModelCard,
    /// The ranking's blend, as `edgerec tune` chose it (the default blend
    /// when absent); a store's policy may override it. A weight a score
    /// could overflow with (`BlendWeights::check`) is refused as it is read,
    /// the field named (`manifest.blend.model`).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "checked_blend")]
    pub blend: Option<BlendWeights>,
    /// Tensor name → checksum of its bytes (see `checksum_hex`).
    pub checksums: BTreeMap<String, String>,
}

/// The manifest's `blend`, refused unless every weight passes `BlendWeights::check`.
fn checked_blend<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<BlendWeights>, D::Error> {
    let blend = Option::<BlendWeights>::deserialize(d)?;
    if let Some(Err((field, message))) = blend.map(|b| b.check()) {
        return Err(serde::de::Error::custom(format!("manifest.blend.{field}: {message}")));
    }
    Ok(blend)
}

/// How the encoder is called (docs/design.md §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderSpec {
    /// Input name: float32 `[1, L, dim]` item embeddings, oldest first.
    pub input: String,
    /// Output name: float32 `[1, dim]` session vector.
    pub output: String,
}

impl Default for EncoderSpec {
    fn default() -> Self {
        EncoderSpec { input: "embeddings".into(), output: "session".into() }
    }
}

/// Where the model came from and how good it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub dataset: String,
    pub trained_at: String,
    pub command: String,
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    #[serde(default)]
    pub notes: String,
}
