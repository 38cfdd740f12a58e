//! The item table stored as f32, f16 or int8: each reads back as the engine
//! will use it, smaller, and a broken compact table is a typed error.

mod common;

use common::f32_bundle;
use edgerec::bundle::{Bundle, TableFormat};
use edgerec::{Engine, Model, RecommendOptions};

fn stored_as(format: TableFormat) -> (Bundle, Vec<u8>) {
    let mut b = f32_bundle();
    b.table_format = format;
    let bytes = b.to_bytes().unwrap();
    (b, bytes)
}

#[test]
fn each_format_reads_back_as_its_round_trip_and_shrinks_the_bundle() {
    let (original, f32_bytes) = stored_as(TableFormat::F32);
    let table_bytes = original.embeddings.len() * 4;
    for (format, saved) in [(TableFormat::F16, table_bytes / 2), (TableFormat::Int8, table_bytes * 3 / 4)] {
        let (_, bytes) = stored_as(format);
        let back = Bundle::from_bytes(&bytes).unwrap();
        assert_eq!(back.table_format, format);
        let values = back.table_values();
        assert_eq!(*values, format.round_trip(&original.embeddings, original.manifest.dim));
        // (the default table is int8 already, so only f16 loses anything here;
        // bundle/table.rs tests the loss of each format on arbitrary rows)
        if format == TableFormat::F16 {
            assert_ne!(*values, original.embeddings);
        }
        // An int8 table stays int8 in memory: no f32 copy.
        assert_eq!(back.int8_rows.is_some(), format == TableFormat::Int8);
        // int8 adds one f32 scale per row.
        let extra = if format == TableFormat::Int8 { original.manifest.item_count * 4 } else { 0 };
        // (the header grows by a tensor entry and a checksum for the scales)
        let shrunk = (f32_bytes.len() - bytes.len()) as i64;
        assert!((shrunk - (saved - extra) as i64).abs() < 256, "{format:?} saved {shrunk} bytes");
        // Writing the decoded table again is lossless: the bytes are stable.
        assert_eq!(back.to_bytes().unwrap().len(), bytes.len());
    }
}

#[test]
fn a_compact_bundle_recommends_like_the_f32_one() {
    let (_, f32_bytes) = stored_as(TableFormat::F32);
    let (_, int8_bytes) = stored_as(TableFormat::Int8);
    let full = Engine::load(&f32_bytes).unwrap();
    let small = Engine::load(&int8_bytes).unwrap();
    let (anchor, _) = common::strong_pair(&full);
    let ids = |mut e: Engine| {
        e.track("view", &anchor).unwrap();
        let opts = RecommendOptions { k: Some(20), ..Default::default() };
        e.recommend(&opts).unwrap().items.into_iter().map(|r| r.item).collect::<Vec<_>>()
    };
    let (a, b) = (ids(full), ids(small));
    let shared = a.iter().filter(|i| b.contains(i)).count();
    assert!(shared * 10 >= a.len() * 8, "int8 kept {shared} of {} recommendations", a.len());
}

#[test]
fn an_int8_table_without_scales_or_with_bad_scales_is_refused() {
    let (_, bytes) = stored_as(TableFormat::Int8);
    // Renaming the scale tensor in the header (same length) leaves it missing.
    let name = b"item_embeddings_scale";
    let at = bytes.windows(name.len()).position(|w| w == name).expect("the header names the scales");
    let mut renamed = bytes.clone();
    renamed[at + name.len() - 1] = b'X';
    let err = Model::load(&renamed).expect_err("no scales");
    assert_eq!(err.code(), "BUNDLE_INVALID", "{err}");
    assert!(err.to_string().contains("item_embeddings_scale"), "{err}");

    // An infinite row stores an infinite scale, which decodes to NaN: refused.
    let mut b = f32_bundle();
    b.table_format = TableFormat::Int8;
    b.embeddings[0] = f32::INFINITY;
    let err = Model::load(&b.to_bytes().unwrap()).expect_err("non-finite scale");
    assert_eq!(err.code(), "BUNDLE_INVALID", "{err}");
}
