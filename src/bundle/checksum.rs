//! A fast non-cryptographic checksum over tensor bytes. It guards against
//! truncation and bit rot on the way to the CDN, not against an attacker
//! (who could rewrite the manifest too).

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const MUL: u64 = 0xFF51_AFD7_ED55_8CCD;

/// 64-bit checksum of `bytes`, as 16 hex digits.
pub fn checksum_hex(bytes: &[u8]) -> String {
    format!("{:016x}", checksum(bytes))
}

fn checksum(bytes: &[u8]) -> u64 {
    let mut h = SEED ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h.rotate_left(23) ^ v).wrapping_mul(MUL);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(23) ^ b as u64).wrapping_mul(MUL);
    }
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_flipped_bit_changes_the_checksum() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let base = checksum(&data);
        for i in [0, 7, 8, 500, 999] {
            let mut d = data.clone();
            d[i] ^= 1;
            assert_ne!(checksum(&d), base, "flip at {i}");
        }
        assert_ne!(checksum(&data[..999]), base);
    }
}
