//! Little-endian tensor bytes → numbers (safetensors stores little-endian;
//! the bytes need not be aligned, so they are copied, not cast).

pub fn f32s_from_le(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

pub fn u32s_from_le(bytes: &[u8]) -> Vec<u32> {
    bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

pub fn i64s_from_le(bytes: &[u8]) -> Vec<i64> {
    bytes.chunks_exact(8).map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect()
}

/// Unsigned integers stored as U8, U16 or U32, widened to u32; `None` for
/// any other dtype.
pub fn uints_from_le(dtype: safetensors::Dtype, bytes: &[u8]) -> Option<Vec<u32>> {
    use safetensors::Dtype;
    match dtype {
        Dtype::U8 => Some(bytes.iter().map(|&b| b as u32).collect()),
        Dtype::U16 => Some(bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]) as u32).collect()),
        Dtype::U32 => Some(u32s_from_le(bytes)),
        _ => None,
    }
}

/// The narrowest of U8, U16, U32 that holds every value, and the bytes.
pub fn narrow_uints(values: &[u32]) -> (safetensors::Dtype, Vec<u8>) {
    use safetensors::Dtype;
    match values.iter().copied().max().unwrap_or(0) {
        0..=0xff => (Dtype::U8, values.iter().map(|&v| v as u8).collect()),
        0x100..=0xffff => (Dtype::U16, values.iter().flat_map(|&v| (v as u16).to_le_bytes()).collect()),
        _ => (Dtype::U32, values.iter().flat_map(|&v| v.to_le_bytes()).collect()),
    }
}
