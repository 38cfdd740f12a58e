//! Shared helpers for the integration tests: the shipped default bundle.
#![allow(dead_code)]

use edgerec::bundle::{Bundle, TableFormat};

pub const DEFAULT_BUNDLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/online-retail/online-retail.edgerec");

pub fn default_bytes() -> Vec<u8> {
    std::fs::read(DEFAULT_BUNDLE).expect("the default bundle is committed under models/")
}

pub fn default_bundle() -> Bundle {
    Bundle::from_bytes(&default_bytes()).expect("the default bundle is valid")
}

/// The default bundle with its (product-coded) table held and stored as f32 rows,
/// for tests that change the table's values, shape or format.
pub fn f32_bundle() -> Bundle {
    let mut b = default_bundle();
    f32_table(&mut b);
    b
}

/// The default bundle with its table re-stored as int8 (codes and a scale a
/// row), for tests of that format.
pub fn int8_bundle() -> Bundle {
    let mut b = f32_bundle();
    b.table_format = TableFormat::Int8;
    Bundle::from_bytes(&b.to_bytes().unwrap()).expect("an int8 table reads back")
}

/// Turn `b`'s table into plain f32 rows and return them.
pub fn f32_table(b: &mut Bundle) -> &mut Vec<f32> {
    b.embeddings = b.table_values().into_owned();
    b.int8_rows = None;
    b.product_codes = None;
    b.table_format = TableFormat::F32;
    &mut b.embeddings
}

/// The shared data sets sit beside the repository (../shared/data).
pub fn shared_data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel)
}

/// The most co-purchased item in the bundle, and its strongest neighbour.
/// The Green Regency Teacup and Saucer (£2.95): a clearly dearer cup and
/// saucer exists, so the default policy's upgrade has a candidate.
pub const UPGRADABLE: &str = "22697";

pub fn strong_pair(e: &edgerec::Engine) -> (String, String) {
    let m = e.model();
    let cp = &m.copurchase;
    let (item, j) = (0..m.manifest.item_count)
        .filter(|&i| !cp.range(i).is_empty())
        .map(|i| (i, cp.range(i).start))
        .max_by(|a, b| cp.support[a.1].cmp(&cp.support[b.1]))
        .unwrap();
    (m.item_id(item as u32).to_string(), m.item_id(cp.neighbors[j]).to_string())
}
