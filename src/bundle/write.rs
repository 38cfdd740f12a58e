//! Serialising a bundle (used by the CLI's `build`, and by tests that craft
//! broken bundles on purpose).

use super::EncoderFormat;
use super::{checksum_hex, meta_keys, narrow_uints, stats, table, tensor_names as t, Bundle, FORMAT_VERSION};
use crate::error::{Error, Result};
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;

/// An unsigned tensor in its narrowest width (the reader widens it again).
fn uints(name: &'static str, values: &[u32]) -> (&'static str, Dtype, Vec<usize>, Vec<u8>) {
    let (dtype, bytes) = narrow_uints(values);
    (name, dtype, vec![values.len()], bytes)
}

fn le_bytes<T: Copy, const N: usize>(values: &[T], to: fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| to(v)).collect()
}

impl Bundle {
    /// Tensor name → (dtype, shape, little-endian bytes).
    fn raw_tensors(&self) -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
        // Shapes come from the data, so a test can write a tensor that
        // disagrees with the manifest and see the reader refuse it.
        let cp = &self.copurchase;
        let (gaps, support) = stats::id_gaps(cp);
        let a = &self.attributes;
        let mut tensors = table::encode(table::HeldTable {
            embeddings: &self.embeddings,
            int8_rows: self.int8_rows.as_ref(),
            product_codes: self.product_codes.as_ref(),
            format: self.table_format,
            dim: self.manifest.dim,
        });
        tensors.extend([
            (
                match self.encoder.format {
                    EncoderFormat::Nnef => t::ENCODER_NNEF,
                    EncoderFormat::Onnx => t::ENCODER_ONNX,
                },
                Dtype::U8,
                vec![self.encoder.bytes.len()],
                self.encoder.bytes.clone(),
            ),
            (t::CP_OFFSETS, Dtype::U32, vec![cp.offsets.len()], le_bytes(&cp.offsets, u32::to_le_bytes)),
            uints(t::CP_NEIGHBORS, &gaps),
            uints(t::CP_SUPPORT, &support),
            uints(t::ITEM_SESSIONS, &a.item_sessions),
            (t::PRICE, Dtype::F32, vec![a.price.len()], le_bytes(&a.price, f32::to_le_bytes)),
            uints(t::CATEGORY, &a.category),
            (t::MARGIN, Dtype::F32, vec![a.margin.len()], le_bytes(&a.margin, f32::to_le_bytes)),
            (t::IN_STOCK, Dtype::U8, vec![a.in_stock.len()], a.in_stock.clone()),
        ]);
        tensors
    }

    /// Serialise to safetensors bytes, filling in the manifest's checksums.
    /// Does not validate: a test may write a broken bundle on purpose.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        if self.attributes.item_sessions.len() != self.manifest.item_count {
            return Err(Error::InvalidInput(
                "the bundle has no per-item session counts (a format-1 bundle whose counts cannot be recovered)".into(),
            ));
        }
        let tensors = self.raw_tensors();
        let mut manifest = self.manifest.clone();
        // The tensors above are in this engine's layout, whatever was read.
        manifest.format_version = FORMAT_VERSION;
        manifest.checksums =
            tensors.iter().map(|(name, _, _, bytes)| (name.to_string(), checksum_hex(bytes))).collect();
        let mut meta = HashMap::new();
        let manifest_json = serde_json::to_string(&manifest).map_err(|e| Error::InvalidInput(e.to_string()))?;
        meta.insert(meta_keys::MANIFEST.to_string(), manifest_json);
        meta.insert(meta_keys::POLICY.to_string(), self.policy_json.clone());
        let views = tensors
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes)
                    .map(|v| (name.to_string(), v))
                    .map_err(|e| Error::InvalidInput(format!("tensor {name}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        safetensors::serialize(views, Some(meta)).map_err(|e| Error::InvalidInput(e.to_string()))
    }
}
