//! Symmetric int8 quantisation, one scale per vector: the retrieval scan's
//! copy of the item table and its query, and a bundle's int8 storage.

/// Symmetric int8 quantisation of one vector; returns the scale.
/// (Written with plain comparisons and `round_ties_even`, which compile to
/// single wasm instructions; `f32::max` and `round` are libm calls there.)
pub fn quantize_row(v: &[f32], out: &mut [i8]) -> f32 {
    let mut max = 0f32;
    for x in v {
        let a = x.abs();
        if a > max {
            max = a;
        }
    }
    if max == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let inv = 127.0 / max;
    for (o, x) in out.iter_mut().zip(v) {
        // |x * inv| <= 127 by construction, so the cast cannot saturate.
        *o = (x * inv).round_ties_even() as i8;
    }
    max / 127.0
}

/// Per-row symmetric int8 codes of a row-major table, and each row's scale
/// (`value ≈ code * scale`): the scan copy, and a bundle's int8 storage.
pub fn quantize_rows(values: &[f32], dim: usize) -> (Vec<i8>, Vec<f32>) {
    let mut codes = vec![0i8; values.len()];
    let scales =
        values.chunks_exact(dim).zip(codes.chunks_exact_mut(dim)).map(|(row, q)| quantize_row(row, q)).collect();
    (codes, scales)
}
