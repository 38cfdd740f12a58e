//! Reading and validating a bundle. Anything wrong is a typed error; nothing
//! here panics on any input bytes.

use super::pq::{self, ProductCodes};
use super::{
    checksum_hex, f32s_from_le, meta_keys, stats, table, tensor_names as t, uints_from_le, Bundle, CoPurchase,
    Int8Rows, ItemAttributes, Manifest, TableFormat, FORMAT_VERSION, OLDEST_FORMAT_VERSION,
};
use super::{EncoderBytes, EncoderFormat};
use crate::error::{Error, Result};
use safetensors::tensor::{Dtype, Metadata, SafeTensors};
use std::collections::HashSet;

/// A table as read: f32 rows, int8 rows, product codes, and the stored format.
type StoredTable = (Vec<f32>, Option<Int8Rows>, Option<ProductCodes>, TableFormat);

/// Largest catalog a bundle may declare (keeps a hostile manifest from
/// making us allocate without bound).
pub const MAX_ITEMS: usize = 5_000_000;
pub const MAX_DIM: usize = 1024;
pub const MAX_SEQ_LEN: usize = 512;
/// Largest magnitude of an item-table value: with `MAX_DIM` dimensions, dot
/// products (and the sums and exponents ranking takes of them) stay finite.
pub const MAX_ABS_EMBEDDING: f32 = 1e4;
/// Largest item price a bundle may carry: a bundle's total of 8 items, its
/// discounts and margins stay finite and exact to the cent.
pub const MAX_PRICE: f32 = 1e9;

impl Bundle {
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle> {
        // One parse of the header (it validates every offset against the
        // buffer); `SafeTensors::deserialize` would parse it a second time.
        let (header_len, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| Error::BundleCorrupt(e.to_string()))?;
        let data = &bytes[8 + header_len..];
        let meta = header.metadata().as_ref().ok_or_else(|| missing("metadata"))?;
        let manifest_json = meta.get(meta_keys::MANIFEST).ok_or_else(|| missing(meta_keys::MANIFEST))?;
        let mut manifest = parse_manifest(manifest_json)?;
        if manifest.blend.is_some_and(|b| !b.is_valid()) {
            return Err(Error::BundleInvalid("the blend's weights must be finite and >= 0".into()));
        }
        let policy_json = meta.get(meta_keys::POLICY).cloned().unwrap_or_else(|| "{}".to_string());
        serde_json::from_str::<serde_json::Value>(&policy_json)
            .map_err(|e| Error::BundleInvalid(format!("policy is not JSON: {e}")))?;

        let reader = TensorReader { header: &header, data, manifest: &manifest };
        let n = manifest.item_count;
        let d = manifest.dim;
        let (embeddings, int8_rows, product_codes, table_format) = reader.table(n, d)?;
        let encoder = reader.encoder()?;
        let offsets = reader.uints(t::CP_OFFSETS, &[n + 1])?;
        let nnz = offsets.last().copied().unwrap_or(0) as usize;
        let mut copurchase = CoPurchase {
            neighbors: reader.uints(t::CP_NEIGHBORS, &[nnz])?,
            support: reader.uints(t::CP_SUPPORT, &[nnz])?,
            offsets,
            ..CoPurchase::default()
        };
        let mut attributes = ItemAttributes {
            price: reader.f32s(t::PRICE, &[n])?,
            category: reader.uints(t::CATEGORY, &[n])?,
            margin: reader.f32s(t::MARGIN, &[n])?,
            in_stock: reader.bytes(t::IN_STOCK, Some(n))?,
            ..ItemAttributes::default()
        };
        check_offsets(&copurchase.offsets)?;
        if manifest.format_version == 1 {
            check_neighbors(&copurchase.neighbors, n)?;
            copurchase.confidence = reader.f32s(t::CP_CONFIDENCE, &[nnz])?;
            copurchase.lift = reader.f32s(t::CP_LIFT, &[nnz])?;
            attributes.popularity = reader.f32s(t::POPULARITY, &[n])?;
            let mined = manifest.model_card.metrics.get("mined_sessions").copied().unwrap_or(0.0) as u64;
            if let Some(counts) = stats::recover_counts(&copurchase, &attributes, mined) {
                attributes.item_sessions = counts;
                manifest.sessions = mined;
            }
        } else {
            // Gaps back to ids (range-checked there), then the statistics.
            copurchase.neighbors = stats::ids_from_gaps(&copurchase.offsets, &copurchase.neighbors, n)?;
            let counts = reader.uints(t::ITEM_SESSIONS, &[n])?;
            stats::derive(&mut copurchase, &mut attributes, &counts, manifest.sessions)?;
            attributes.item_sessions = counts;
        }
        let bundle = Bundle {
            manifest,
            policy_json,
            embeddings,
            int8_rows,
            product_codes,
            table_format,
            encoder,
            copurchase,
            attributes,
        };
        bundle.validate_values()?;
        Ok(bundle)
    }

    /// Cross-field checks on values: ids in range, numbers finite and sane.
    fn validate_values(&self) -> Result<()> {
        if let Some(i) = self.embeddings.iter().position(|v| !within_table_range(*v)) {
            return Err(Error::BundleInvalid(format!(
                "{}[{i}] = {} (values must be finite, within ±{MAX_ABS_EMBEDDING})",
                t::EMBEDDINGS,
                self.embeddings[i]
            )));
        }
        if let Some(q) = &self.int8_rows {
            check_within(t::EMBEDDING_SCALES, &q.scales, MAX_ABS_EMBEDDING / 127.0)?;
        }
        let cp = &self.copurchase;
        check_within(t::CP_CONFIDENCE, &cp.confidence, 1.0)?;
        check_finite_nonneg(t::CP_LIFT, &cp.lift)?;
        let a = &self.attributes;
        check_within(t::PRICE, &a.price, MAX_PRICE)?;
        check_within(t::MARGIN, &a.margin, 1.0)?;
        check_within(t::POPULARITY, &a.popularity, 1.0)?;
        let cats = self.manifest.categories.len();
        if let Some(&bad) = a.category.iter().find(|&&c| c as usize >= cats) {
            return Err(Error::BundleInvalid(format!("{} holds {bad}, out of range 0..{cats}", t::CATEGORY)));
        }
        Ok(())
    }
}

/// Format 1's neighbour ids, stored as they are: in range.
fn check_neighbors(neighbors: &[u32], n: usize) -> Result<()> {
    if let Some(&bad) = neighbors.iter().find(|&&j| j as usize >= n) {
        return Err(Error::BundleInvalid(format!("{} holds id {bad}, out of range 0..{n}", t::CP_NEIGHBORS)));
    }
    Ok(())
}

/// Offsets that start at 0 and never decrease: what `CoPurchase::range` relies on.
fn check_offsets(offsets: &[u32]) -> Result<()> {
    if offsets.first() != Some(&0) || offsets.windows(2).any(|w| w[0] > w[1]) {
        return Err(Error::BundleInvalid(format!("{} must start at 0 and never decrease", t::CP_OFFSETS)));
    }
    Ok(())
}

fn missing(what: &str) -> Error {
    Error::BundleInvalid(format!("missing {what}"))
}

/// A finite item-table value within ±MAX_ABS_EMBEDDING.
fn within_table_range(v: f32) -> bool {
    v.is_finite() && v.abs() <= MAX_ABS_EMBEDDING
}

/// Every value finite and in `0..=max`.
fn check_within(name: &str, values: &[f32], max: f32) -> Result<()> {
    check_finite_nonneg(name, values)?;
    match values.iter().position(|&v| v > max) {
        Some(i) => Err(Error::BundleInvalid(format!("{name}[{i}] = {} (at most {max})", values[i]))),
        None => Ok(()),
    }
}

fn check_finite_nonneg(name: &str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite() || *v < 0.0) {
        Some(i) => Err(Error::BundleInvalid(format!("{name}[{i}] = {} (must be finite and >= 0)", values[i]))),
        None => Ok(()),
    }
}

fn parse_manifest(json: &str) -> Result<Manifest> {
    // Read the version alone first, so an old or future bundle gets a
    // version error rather than a confusing field error.
    #[derive(serde::Deserialize)]
    struct VersionProbe {
        format_version: Option<u64>,
    }
    let version = serde_json::from_str::<VersionProbe>(json)
        .map_err(|e| Error::BundleInvalid(format!("manifest is not JSON: {e}")))?
        .format_version
        .ok_or_else(|| missing("manifest.format_version"))?;
    if !(OLDEST_FORMAT_VERSION as u64..=FORMAT_VERSION as u64).contains(&version) {
        return Err(Error::BundleVersion { found: version.min(u32::MAX as u64) as u32, supported: FORMAT_VERSION });
    }
    let m: Manifest = serde_json::from_str(json).map_err(|e| Error::BundleInvalid(format!("manifest: {e}")))?;
    let n = m.item_count;
    if n == 0 || n > MAX_ITEMS {
        return Err(Error::BundleInvalid(format!("item_count {n} is outside 1..={MAX_ITEMS}")));
    }
    if m.dim == 0 || m.dim > MAX_DIM {
        return Err(Error::BundleInvalid(format!("dim {} is outside 1..={MAX_DIM}", m.dim)));
    }
    if m.max_seq_len == 0 || m.max_seq_len > MAX_SEQ_LEN {
        return Err(Error::BundleInvalid(format!("max_seq_len {} is outside 1..={MAX_SEQ_LEN}", m.max_seq_len)));
    }
    if m.item_ids.len() != n || !(m.titles.len() == n || m.titles.is_empty()) {
        return Err(Error::BundleInvalid(format!(
            "manifest lists {} ids and {} titles for {n} items",
            m.item_ids.len(),
            m.titles.len()
        )));
    }
    let mut seen = HashSet::with_capacity(n);
    if let Some(dup) = m.item_ids.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(Error::BundleInvalid(format!("item id {dup:?} appears twice")));
    }
    if m.categories.is_empty() {
        return Err(missing("manifest.categories"));
    }
    Ok(m)
}

/// Typed, shape-checked, checksum-checked access to the tensors.
struct TensorReader<'a> {
    header: &'a Metadata,
    data: &'a [u8],
    manifest: &'a Manifest,
}

impl<'a> TensorReader<'a> {
    /// The tensor's shape and bytes, dtype- and checksum-checked.
    fn view(&self, name: &str, dtype: Dtype) -> Result<(&'a [usize], &'a [u8])> {
        let info = self.header.info(name).ok_or_else(|| missing(&format!("tensor {name}")))?;
        if info.dtype != dtype {
            return Err(Error::BundleInvalid(format!("tensor {name} is {:?}, expected {dtype:?}", info.dtype)));
        }
        let (start, end) = info.data_offsets;
        let bytes = self.data.get(start..end).ok_or_else(|| Error::BundleCorrupt(format!("tensor {name} offsets")))?;
        let expected = self.manifest.checksums.get(name).ok_or_else(|| missing(&format!("checksum of {name}")))?;
        if &checksum_hex(bytes) != expected {
            return Err(Error::BundleChecksum(format!("tensor {name}")));
        }
        Ok((&info.shape, bytes))
    }

    fn shaped(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&'a [u8]> {
        let (found, bytes) = self.view(name, dtype)?;
        if found != shape {
            return Err(Error::BundleInvalid(format!("tensor {name} has shape {found:?}, expected {shape:?}")));
        }
        Ok(bytes)
    }

    /// The item table: f32 rows (decoded from f16), the int8 codes and
    /// scales as stored, or product codes and their decoded int8 rows.
    fn table(&self, n: usize, d: usize) -> Result<StoredTable> {
        if let Some(codes) = self.header.info(t::PQ_CODES) {
            if self.header.info(t::EMBEDDINGS).is_some() {
                return Err(Error::BundleInvalid(format!("holds both {} and {}", t::EMBEDDINGS, t::PQ_CODES)));
            }
            return self.product_table(codes.shape.get(1).copied().unwrap_or(0), n, d);
        }
        let info = self.header.info(t::EMBEDDINGS).ok_or_else(|| missing(&format!("tensor {}", t::EMBEDDINGS)))?;
        Ok(match info.dtype {
            Dtype::F32 => (self.f32s(t::EMBEDDINGS, &[n, d])?, None, None, TableFormat::F32),
            Dtype::F16 => {
                (table::from_f16(self.shaped(t::EMBEDDINGS, Dtype::F16, &[n, d])?), None, None, TableFormat::F16)
            }
            Dtype::I8 => {
                let codes = self.shaped(t::EMBEDDINGS, Dtype::I8, &[n, d])?.iter().map(|&b| b as i8).collect();
                let scales = self.f32s(t::EMBEDDING_SCALES, &[n])?;
                (Vec::new(), Some(Int8Rows { codes, scales }), None, TableFormat::Int8)
            }
            other => {
                return Err(Error::BundleInvalid(format!(
                    "tensor {} is {other:?}, expected F32, F16 or I8",
                    t::EMBEDDINGS
                )))
            }
        })
    }

    /// A product-quantised table of `m` codes a row, checked, with its decoded int8 rows.
    fn product_table(&self, m: usize, n: usize, d: usize) -> Result<StoredTable> {
        let sub_dim = pq::sub_dim_of(d, m).ok_or_else(|| {
            Error::BundleInvalid(format!(
                "{} has {m} codes a row, which no subspace width gives for dim {d}",
                t::PQ_CODES
            ))
        })?;
        let codes = self.shaped(t::PQ_CODES, Dtype::U8, &[n, m])?.to_vec();
        let codebook = table::from_f16(self.shaped(t::PQ_CODEBOOK, Dtype::F16, &[pq::CENTROIDS, d])?);
        if codebook.iter().any(|v| !within_table_range(*v)) {
            return Err(Error::BundleInvalid(format!(
                "{} holds NaN, Inf or values beyond ±{MAX_ABS_EMBEDDING}",
                t::PQ_CODEBOOK
            )));
        }
        let norms = table::from_f16(self.shaped(t::PQ_NORMS, Dtype::F16, &[n])?);
        // A row's length, within what `MAX_DIM` values of at most MAX_ABS_EMBEDDING make.
        check_within(t::PQ_NORMS, &norms, MAX_ABS_EMBEDDING * (MAX_DIM as f32).sqrt())?;
        let product = ProductCodes { sub_dim, codes, codebook, norms };
        let rows = table::int8_from_product_codes(&product, d);
        Ok((Vec::new(), Some(rows), Some(product), TableFormat::Pq(sub_dim as u8)))
    }

    /// The encoder, in whichever of the two forms the bundle carries.
    fn encoder(&self) -> Result<EncoderBytes> {
        let has = |name| self.header.info(name).is_some();
        let format = match (has(t::ENCODER_NNEF), has(t::ENCODER_ONNX)) {
            (true, false) => EncoderFormat::Nnef,
            (false, true) => EncoderFormat::Onnx,
            (true, true) => {
                return Err(Error::BundleInvalid(format!("holds both {} and {}", t::ENCODER_NNEF, t::ENCODER_ONNX)))
            }
            (false, false) => return Err(missing(&format!("tensor {}", t::ENCODER_NNEF))),
        };
        let name = if format == EncoderFormat::Nnef { t::ENCODER_NNEF } else { t::ENCODER_ONNX };
        Ok(EncoderBytes { format, bytes: self.bytes(name, None)? })
    }

    fn f32s(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let data = self.shaped(name, Dtype::F32, shape)?;
        Ok(f32s_from_le(data))
    }

    /// Unsigned integers in whichever width (U8, U16, U32) they were stored.
    fn uints(&self, name: &str, shape: &[usize]) -> Result<Vec<u32>> {
        let info = self.header.info(name).ok_or_else(|| missing(&format!("tensor {name}")))?;
        let data = self.shaped(name, info.dtype, shape)?;
        uints_from_le(info.dtype, data)
            .ok_or_else(|| Error::BundleInvalid(format!("tensor {name} is {:?}, expected U8, U16 or U32", info.dtype)))
    }

    /// A u8 vector; `len` pins its length when known.
    fn bytes(&self, name: &str, len: Option<usize>) -> Result<Vec<u8>> {
        let (shape, bytes) = self.view(name, Dtype::U8)?;
        match (shape, len) {
            ([l], Some(n)) if *l != n => {
                Err(Error::BundleInvalid(format!("tensor {name} has {l} entries, expected {n}")))
            }
            ([_], _) => Ok(bytes.to_vec()),
            (s, _) => Err(Error::BundleInvalid(format!("tensor {name} has shape {s:?}, expected 1-D"))),
        }
    }
}
