//! The item table stored as f32, f16, int8 or product codes: each reads back
//! as the engine will use it, smaller, and a broken compact table is a typed
//! error.

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
        // (bundle/table.rs tests the loss of each format on arbitrary rows)
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
    let full = Engine::load(&f32_bytes).unwrap();
    let (anchor, _) = common::strong_pair(&full);
    let ids = |mut e: Engine| {
        e.track("view", &anchor).unwrap();
        let opts = RecommendOptions { k: Some(20), ..Default::default() };
        e.recommend(&opts).unwrap().items.into_iter().map(|r| r.view.item).collect::<Vec<_>>()
    };
    let a = ids(full);
    // int8 keeps 80 % of the top 20; product codes of 2 dimensions 70 %.
    for (format, kept) in [(TableFormat::Int8, 8), (TableFormat::Pq(2), 7)] {
        let b = ids(Engine::load(&stored_as(format).1).unwrap());
        let shared = a.iter().filter(|i| b.contains(i)).count();
        assert!(shared * 10 >= a.len() * kept, "{format} kept {shared} of {} recommendations", a.len());
    }
}

#[test]
fn product_codes_read_back_as_their_round_trip_and_are_a_fraction_of_f32() {
    let (original, f32_bytes) = stored_as(TableFormat::F32);
    let (n, d) = (original.manifest.item_count, original.manifest.dim);
    for sub_dim in [4usize, 3] {
        let format = TableFormat::Pq(sub_dim as u8);
        let (_, bytes) = stored_as(format);
        let back = Bundle::from_bytes(&bytes).unwrap();
        assert_eq!(back.table_format, format);
        assert_eq!(*back.table_values(), format.round_trip(&original.embeddings, d));
        // codes (one byte per piece), an f16 codebook of 256 rows, an f16 length per row
        let stored = n * d.div_ceil(sub_dim) + 256 * d * 2 + n * 2;
        let shrunk = f32_bytes.len() - bytes.len();
        assert!((shrunk as i64 - (n * d * 4 - stored) as i64).abs() < 512, "{format} saved {shrunk} bytes");
        // Rewriting keeps the same codes (the header's metadata order may vary).
        let again = Bundle::from_bytes(&back.to_bytes().unwrap()).unwrap();
        assert_eq!(again.product_codes, back.product_codes, "{format}");
        assert_eq!(again.to_bytes().unwrap().len(), bytes.len());
    }
}

#[test]
fn broken_product_codes_are_refused() {
    let (b, _) = stored_as(TableFormat::Pq(4));
    let pq_bundle = Bundle::from_bytes(&b.to_bytes().unwrap()).unwrap();
    let refused = |edit: &dyn Fn(&mut edgerec::bundle::pq::ProductCodes), what: &str| {
        let mut broken = pq_bundle.clone();
        edit(broken.product_codes.as_mut().unwrap());
        let err = Model::load(&broken.to_bytes().unwrap()).expect_err(what);
        assert_eq!(err.code(), "BUNDLE_INVALID", "{what}: {err}");
    };
    refused(&|p| p.codebook[5] = f32::NAN, "a NaN centroid");
    refused(&|p| p.norms[2] = -1.0, "a negative row length");
    refused(&|p| p.norms.pop().map(|_| ()).unwrap_or(()), "a length missing");
    refused(&|p| p.codes.truncate(p.codes.len() - p.codes.len() / p.norms.len()), "a row's codes missing");
    missing_tensor_is_refused(&pq_bundle.to_bytes().unwrap(), "item_embeddings_pq_codebook");
}

/// Renaming a tensor in the header (same length) leaves it missing: a typed error naming it.
fn missing_tensor_is_refused(bytes: &[u8], name: &str) {
    let at = bytes.windows(name.len()).position(|w| w == name.as_bytes()).expect("the header names the tensor");
    let mut renamed = bytes.to_vec();
    renamed[at + name.len() - 1] = b'X';
    let err = Model::load(&renamed).expect_err(name);
    assert_eq!(err.code(), "BUNDLE_INVALID", "{err}");
    assert!(err.to_string().contains(name), "{err}");
}

#[test]
fn an_int8_table_without_scales_or_with_bad_scales_is_refused() {
    let (_, bytes) = stored_as(TableFormat::Int8);
    missing_tensor_is_refused(&bytes, "item_embeddings_scale");

    // An infinite row stores an infinite scale, which decodes to NaN: refused.
    let mut b = f32_bundle();
    b.table_format = TableFormat::Int8;
    b.embeddings[0] = f32::INFINITY;
    let err = Model::load(&b.to_bytes().unwrap()).expect_err("non-finite scale");
    assert_eq!(err.code(), "BUNDLE_INVALID", "{err}");
}

#[test]
fn a_table_stored_both_ways_is_refused() {
    use safetensors::tensor::{Dtype, SafeTensors, TensorView};
    let (b, bytes) = stored_as(TableFormat::Pq(4));
    let (n, d) = (b.manifest.item_count, b.manifest.dim);
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let int8 = vec![0u8; n * d];
    let mut tensors = st.tensors();
    tensors.push(("item_embeddings".to_string(), TensorView::new(Dtype::I8, vec![n, d], &int8).unwrap()));
    let both = safetensors::serialize(tensors, header.metadata().clone()).unwrap();
    let err = Model::load(&both).expect_err("two tables");
    assert_eq!(err.code(), "BUNDLE_INVALID", "{err}");
    assert!(err.to_string().contains("holds both"), "{err}");
}
