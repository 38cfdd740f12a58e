//! tract gives PyTorch's session vectors for the shipped encoder: the
//! fixture was computed by PyTorch at export time (training/train.py).

mod common;

use edgerec::bundle::{f32s_from_le, i64s_from_le};
use edgerec::Model;
use safetensors::SafeTensors;

fn f32s(st: &SafeTensors, name: &str) -> Vec<f32> {
    f32s_from_le(st.tensor(name).unwrap().data())
}

#[test]
fn tract_matches_pytorch_within_1e_4() {
    check_parity("online-retail/online-retail.edgerec", "online-retail/parity.safetensors");
}

#[test]
fn the_shipped_diginetica_encoder_matches_pytorch_within_1e_4() {
    check_parity("diginetica/diginetica.edgerec", "diginetica/parity.safetensors");
}

/// The bundle's encoder against the fixture PyTorch wrote for it (paths
/// under `models/`).
fn check_parity(bundle: &str, fixture: &str) {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let model = Model::load(&std::fs::read(models.join(bundle)).unwrap()).unwrap();
    let bytes = std::fs::read(models.join(fixture)).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let inputs = f32s(&st, "inputs");
    let outputs = f32s(&st, "outputs");
    let lengths: Vec<usize> =
        i64s_from_le(st.tensor("lengths").unwrap().data()).into_iter().map(|l| l as usize).collect();
    let shape = st.tensor("inputs").unwrap().shape().to_vec();
    let (lmax, d) = (shape[1], shape[2]);
    assert!(lengths.len() >= 16 && lengths.iter().any(|&l| l > 5), "the fixture covers real sessions");
    let mut worst = 0f32;
    for (c, &len) in lengths.iter().enumerate() {
        let seq = &inputs[c * lmax * d..c * lmax * d + len * d];
        let got = model.encoder.encode(seq).unwrap();
        for (a, b) in got.iter().zip(&outputs[c * d..(c + 1) * d]) {
            worst = worst.max((a - b).abs());
        }
    }
    // Encoding the same sessions in another order must not change anything
    // (recurrent state must not leak between calls).
    for (c, &len) in lengths.iter().enumerate().rev() {
        let seq = &inputs[c * lmax * d..c * lmax * d + len * d];
        let got = model.encoder.encode(seq).unwrap();
        for (a, b) in got.iter().zip(&outputs[c * d..(c + 1) * d]) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(worst <= 1e-4, "max |tract - pytorch| = {worst:e}");
}
