//! Serialising a bundle (used by the CLI's `build`, and by tests that craft
//! broken bundles on purpose).

use super::{checksum_hex, meta_keys, table, tensor_names as t, Bundle};
use crate::error::{Error, Result};
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;

fn le_bytes<T: Copy, const N: usize>(values: &[T], to: fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| to(v)).collect()
}

impl Bundle {
    /// Tensor name → (dtype, shape, little-endian bytes).
    fn raw_tensors(&self) -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
        // Shapes come from the data, so a test can write a tensor that
        // disagrees with the manifest and see the reader refuse it.
        let nnz = self.copurchase.neighbors.len();
        let cp = &self.copurchase;
        let a = &self.attributes;
        let mut tensors = table::encode(self);
        tensors.extend([
            (t::ENCODER_ONNX, Dtype::U8, vec![self.encoder_onnx.len()], self.encoder_onnx.clone()),
            (t::CP_OFFSETS, Dtype::U32, vec![cp.offsets.len()], le_bytes(&cp.offsets, u32::to_le_bytes)),
            (t::CP_NEIGHBORS, Dtype::U32, vec![nnz], le_bytes(&cp.neighbors, u32::to_le_bytes)),
            (t::CP_SUPPORT, Dtype::U32, vec![cp.support.len()], le_bytes(&cp.support, u32::to_le_bytes)),
            (t::CP_CONFIDENCE, Dtype::F32, vec![cp.confidence.len()], le_bytes(&cp.confidence, f32::to_le_bytes)),
            (t::CP_LIFT, Dtype::F32, vec![cp.lift.len()], le_bytes(&cp.lift, f32::to_le_bytes)),
            (t::PRICE, Dtype::F32, vec![a.price.len()], le_bytes(&a.price, f32::to_le_bytes)),
            (t::CATEGORY, Dtype::U32, vec![a.category.len()], le_bytes(&a.category, u32::to_le_bytes)),
            (t::MARGIN, Dtype::F32, vec![a.margin.len()], le_bytes(&a.margin, f32::to_le_bytes)),
            (t::IN_STOCK, Dtype::U8, vec![a.in_stock.len()], a.in_stock.clone()),
            (t::POPULARITY, Dtype::F32, vec![a.popularity.len()], le_bytes(&a.popularity, f32::to_le_bytes)),
        ]);
        tensors
    }

    /// Serialise to safetensors bytes, filling in the manifest's checksums.
    /// Does not validate: a test may write a broken bundle on purpose.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let tensors = self.raw_tensors();
        let mut manifest = self.manifest.clone();
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
