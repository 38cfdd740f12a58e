//! Shared helpers for the integration tests: the shipped default bundle.
#![allow(dead_code)]

use edgerec::bundle::Bundle;

pub const DEFAULT_BUNDLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/online-retail/online-retail.edgerec");

pub fn default_bytes() -> Vec<u8> {
    std::fs::read(DEFAULT_BUNDLE).expect("the default bundle is committed under models/")
}

pub fn default_bundle() -> Bundle {
    Bundle::from_bytes(&default_bytes()).expect("the default bundle is valid")
}

/// The shared data sets sit beside the repository (../shared/data).
pub fn shared_data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel)
}

/// The most co-purchased item in the bundle, and its strongest neighbour.
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
