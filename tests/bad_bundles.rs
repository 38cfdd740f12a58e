//! Every way a bundle can be broken gives a typed error, never a panic.

mod common;

use common::{default_bundle, default_bytes, f32_table, int8_bundle};
use edgerec::bundle::Bundle;
use edgerec::{Engine, Model};

fn load_code(bytes: &[u8]) -> &'static str {
    Model::load(bytes).expect_err("a broken bundle must not load").code()
}

fn code_after(mutate: impl FnOnce(&mut Bundle)) -> &'static str {
    code_after_on(default_bundle(), mutate)
}

fn code_after_on(mut b: Bundle, mutate: impl FnOnce(&mut Bundle)) -> &'static str {
    mutate(&mut b);
    load_code(&b.to_bytes().unwrap())
}

#[test]
fn the_default_bundle_loads() {
    Model::load(&default_bytes()).unwrap();
}

#[test]
fn truncated_bundles_are_corrupt() {
    let bytes = default_bytes();
    for cut in [0, 4, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        assert_eq!(load_code(&bytes[..cut]), "BUNDLE_CORRUPT", "cut at {cut}");
    }
}

#[test]
fn garbage_is_corrupt() {
    assert_eq!(load_code(b"this is not a bundle at all"), "BUNDLE_CORRUPT");
    let mut huge_header = vec![0xff; 64];
    huge_header[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(load_code(&huge_header), "BUNDLE_CORRUPT");
}

#[test]
fn a_flipped_data_byte_fails_the_checksum() {
    let mut bytes = default_bytes();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x40;
    assert_eq!(load_code(&bytes), "BUNDLE_CHECKSUM");
}

#[test]
fn another_format_version_is_refused() {
    // The writer always writes its own version: patch the stored manifest.
    let bytes = default_bytes();
    // The manifest is a JSON string inside the header's JSON: its quotes are escaped.
    let key = br#"format_version\":2"#;
    let at = bytes.windows(key.len()).position(|w| w == key).expect("the manifest names its version");
    for version in [b'0', b'3', b'9'] {
        let mut patched = bytes.clone();
        patched[at + key.len() - 1] = version;
        assert_eq!(load_code(&patched), "BUNDLE_VERSION");
    }
}

#[test]
fn shape_mismatches_are_invalid() {
    assert_eq!(
        code_after(|b| {
            let d = b.manifest.dim;
            let rows = f32_table(b);
            rows.truncate(rows.len() - d)
        }),
        "BUNDLE_INVALID"
    );
    assert_eq!(
        code_after(|b| {
            b.attributes.price.pop();
        }),
        "BUNDLE_INVALID"
    );
    assert_eq!(
        code_after(|b| {
            b.manifest.titles.pop();
        }),
        "BUNDLE_INVALID"
    );
}

#[test]
fn non_finite_weights_are_invalid() {
    assert_eq!(code_after(|b| f32_table(b)[17] = f32::NAN), "BUNDLE_INVALID");
    assert_eq!(code_after(|b| f32_table(b)[3] = f32::INFINITY), "BUNDLE_INVALID");
    assert_eq!(code_after_on(int8_bundle(), |b| b.int8_rows.as_mut().unwrap().scales[3] = f32::NAN), "BUNDLE_INVALID");
    // Counts no mining could produce: a pair seen more often than its items.
    assert_eq!(code_after(|b| b.copurchase.support[0] = u32::MAX), "BUNDLE_INVALID");
    assert_eq!(code_after(|b| b.attributes.item_sessions[0] = b.manifest.sessions as u32 + 1), "BUNDLE_INVALID");
    assert_eq!(code_after(|b| b.attributes.price[0] = -1.0), "BUNDLE_INVALID");
}

#[test]
fn ids_out_of_range_are_invalid() {
    assert_eq!(code_after(|b| b.copurchase.neighbors[0] = b.manifest.item_count as u32), "BUNDLE_INVALID");
    assert_eq!(code_after(|b| b.attributes.category[0] = u32::MAX), "BUNDLE_INVALID");
    assert_eq!(code_after(|b| b.manifest.item_ids[1] = b.manifest.item_ids[0].clone()), "BUNDLE_INVALID");
}

#[test]
fn an_encoder_off_contract_is_refused() {
    assert_eq!(code_after(|b| b.encoder.bytes = b"not an encoder".to_vec()), "MODEL_CONTRACT");
    assert_eq!(code_after(|b| b.manifest.encoder.input = "tokens".into()), "MODEL_CONTRACT");
    assert_eq!(code_after(|b| b.manifest.encoder.output = "logits".into()), "MODEL_CONTRACT");
    // A table of another width than the encoder was trained for.
    assert_eq!(
        code_after(|b| {
            let d = b.manifest.dim;
            let half: Vec<f32> = f32_table(b).chunks(d).flat_map(|r| r[..d / 2].to_vec()).collect();
            b.embeddings = half;
            b.manifest.dim = d / 2;
        }),
        "MODEL_CONTRACT"
    );
}

#[test]
fn a_bad_policy_is_refused() {
    let mut b = default_bundle();
    b.policy_json = "{not json".into();
    assert_eq!(load_code(&b.to_bytes().unwrap()), "BUNDLE_INVALID");
    b.policy_json = r#"{"ranking": {"model": -1}}"#.into();
    let err = Engine::load(&b.to_bytes().unwrap()).unwrap_err();
    assert_eq!(err.code(), "BUNDLE_INVALID");
}

/// Keys whose value is JSON `null` anywhere in `v` (NaN and infinities serialise as null).
fn null_keys(v: &serde_json::Value, key: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Null => {
            out.insert(key.to_string());
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| null_keys(x, key, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| null_keys(x, k, out)),
        _ => {}
    }
}

#[test]
fn an_all_zero_table_gives_finite_answers_everywhere() {
    let mut b = default_bundle();
    f32_table(&mut b).iter_mut().for_each(|v| *v = 0.0);
    let mut e = Engine::load(&b.to_bytes().unwrap()).unwrap();
    e.set_shopper_key("k").unwrap();
    e.track("view", "85123A").unwrap();
    let mut nulls = std::collections::BTreeSet::new();
    let r = e.recommend(&Default::default()).unwrap();
    null_keys(&serde_json::to_value(&r).unwrap(), "", &mut nulls);
    let p = e.page(&serde_json::from_str(r#"{"anchor": "85123A"}"#).unwrap()).unwrap();
    null_keys(&serde_json::to_value(&p).unwrap(), "", &mut nulls);
    for slot in ["cart", "product", "post-purchase"] {
        let request = serde_json::from_str(&format!(r#"{{"slot": "{slot}", "anchor": "85123A"}}"#)).unwrap();
        let d = e.next_best_offer(&request, 1.7e12).unwrap();
        null_keys(&serde_json::to_value(&d).unwrap(), "", &mut nulls);
    }
    // Only the optional fields may be null (no arm, a cap not counted yet): no score, price or total.
    assert!(nulls.iter().all(|k| k == "arm" || k == "count"), "null values under {nulls:?}");
}

#[test]
fn values_that_would_overflow_are_refused_at_load_with_the_field_named() {
    for (field, mutate) in [
        ("item_price", Box::new(|b: &mut Bundle| b.attributes.price[0] = 3e38) as Box<dyn Fn(&mut Bundle)>),
        ("item_margin", Box::new(|b: &mut Bundle| b.attributes.margin[1] = 2.0)),
        ("item_embeddings", Box::new(|b: &mut Bundle| f32_table(b)[5] = 1e30)),
        ("item_embeddings_scale", Box::new(|b: &mut Bundle| b.int8_rows.as_mut().unwrap().scales[3] = 1e30)),
    ] {
        // (an int8 table, so that its scales are what the bundle stores)
        let mut b = int8_bundle();
        mutate(&mut b);
        let err = Model::load(&b.to_bytes().unwrap()).expect_err(field);
        assert_eq!(err.code(), "BUNDLE_INVALID", "{field}: {err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
}
