//! A bundle's version id: the SHA-256 of its bytes, as `sha256:` and 64 hex
//! digits. The same bytes give the same id anywhere (`sha256sum` agrees),
//! so a release file can pin a bundle and a report can say which model
//! made it, without anything written into the bundle itself.

use sha2::{Digest, Sha256};

pub const VERSION_PREFIX: &str = "sha256:";

pub fn version_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut id = String::with_capacity(VERSION_PREFIX.len() + 64);
    id.push_str(VERSION_PREFIX);
    for b in digest {
        id.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        id.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    id
}

/// Whether `id` has the shape of a version id (what a release file names).
pub fn is_version(id: &str) -> bool {
    id.strip_prefix(VERSION_PREFIX)
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The short form people read (`sha256:` and the first 12 digits).
pub fn short(id: &str) -> &str {
    &id[..id.len().min(VERSION_PREFIX.len() + 12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_sha256_of_the_bytes() {
        // sha256("abc"), FIPS 180-2 appendix B.1.
        let id = version_of(b"abc");
        assert_eq!(id, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(is_version(&id));
        assert_eq!(short(&id), "sha256:ba7816bf8f01");
        assert!(!is_version("sha256:BA7816"));
        assert!(!is_version("md5:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }
}
