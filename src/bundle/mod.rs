//! The model bundle: one safetensors file a store ships to its CDN (docs/design.md §4).
//!
//! `parts` is what a bundle holds; `read` validates everything at the
//! boundary and returns a typed error (past it, the rest of the engine
//! trusts the data: ids in range, finite); `write` serialises it.

mod bytes;
mod checksum;
mod manifest;
mod names;
mod parts;
pub mod pq;
pub(crate) mod read;
pub mod stats;
mod table;
mod version;
mod write;

pub use bytes::{f32s_from_le, i64s_from_le, narrow_uints, u32s_from_le, uints_from_le};
pub use checksum::checksum_hex;
pub use manifest::{EncoderSpec, Manifest, ModelCard, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
pub use names::{meta_keys, tensor_names};
pub use parts::{Bundle, CoPurchase, EncoderBytes, EncoderFormat, ItemAttributes};
pub use read::MAX_ITEMS;
pub use table::{Int8Rows, TableFormat};
pub use version::{is_version, short as short_version, version_of};
