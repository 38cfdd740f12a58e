//! Input shares sealed to one aggregator (issue 21): HPKE (RFC 9180) in
//! DAP's suite — X25519-HKDF-SHA256, HKDF-SHA256, AES-128-GCM — so a share
//! that travels through the leader is readable by the helper alone. The
//! associated data binds a sealed share to its task, report id and public
//! share: moved to another report, it does not open.
//!
//! Each aggregator publishes its configs (`{ id, publicKey }`, DAP's HPKE
//! config without the suite ids, which are fixed here) and keeps the
//! private key of every config it still accepts, so keys rotate mid-day
//! without losing a report sealed to the one before.

use super::task::{Role, NONCE_BYTES};
use crate::error::{Error, Result};
use crate::report::noise::SecureRandom;
use hpke::aead::AesGcm128;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};

type Suite = X25519HkdfSha256;
type PrivateKey = <Suite as Kem>::PrivateKey;
type PublicKey = <Suite as Kem>::PublicKey;
type EncappedKey = <Suite as Kem>::EncappedKey;

/// What an aggregator publishes: which of its keys, and the public half.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpkeConfig {
    pub id: u8,
    /// 32 bytes, hex.
    pub public_key: String,
}

/// A config and its private key, as the aggregator keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpkeKeypair {
    pub config: HpkeConfig,
    /// 32 bytes, hex.
    pub private_key: String,
}

/// A share sealed to one aggregator's config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sealed {
    pub config_id: u8,
    /// The encapsulated key, base64url.
    pub enc: String,
    /// The ciphertext and tag, base64url.
    pub payload: String,
}

/// Why a sealed share did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OpenError {
    /// Sealed to a config this aggregator no longer (or never) held: DAP's
    /// `outdatedConfig`; the client fetches the configs again.
    OutdatedConfig,
    /// Not base64url, or a key of the wrong length.
    Malformed,
    /// The tag does not check: another key, another report, or altered.
    Undecryptable,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

/// Bytes in an upload's JSON: base64url without padding (as JOSE writes them).
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()
}

/// The HPKE info string: the label, then the sender (the client, 1) and
/// the receiver (DAP's shape).
fn info(role: Role) -> Vec<u8> {
    let receiver = match role {
        Role::Leader => 2,
        Role::Helper => 3,
    };
    [b"edgerec input share".as_slice(), &[1, receiver]].concat()
}

/// The associated data: the task, the report id and the public share.
fn aad(task_id: &str, nonce: &[u8; NONCE_BYTES], public_share: &[u8]) -> Vec<u8> {
    [task_id.as_bytes(), nonce, public_share].concat()
}

impl HpkeKeypair {
    /// A fresh keypair from the platform's secure generator.
    pub fn generate(id: u8, rng: &mut SecureRandom) -> Result<HpkeKeypair> {
        let mut ikm = [0u8; 32];
        for chunk in ikm.chunks_exact_mut(8) {
            chunk.copy_from_slice(&rng.next_u64()?.to_le_bytes());
        }
        let (private, public) = Suite::derive_keypair(&ikm);
        Ok(HpkeKeypair {
            config: HpkeConfig { id, public_key: hex(&public.to_bytes()) },
            private_key: hex(&private.to_bytes()),
        })
    }
}

/// Seals `share` for the aggregator of `role` under its `config`.
pub fn seal(
    config: &HpkeConfig,
    role: Role,
    task_id: &str,
    nonce: &[u8; NONCE_BYTES],
    public_share: &[u8],
    share: &[u8],
) -> Result<Sealed> {
    let bad = || Error::InvalidOptions(format!("HPKE config {}: the public key is not 32 bytes of hex", config.id));
    let key = PublicKey::from_bytes(&unhex(&config.public_key).ok_or_else(bad)?).map_err(|_| bad())?;
    let (enc, payload) = hpke::single_shot_seal::<AesGcm128, HkdfSha256, Suite>(
        &OpModeS::Base,
        &key,
        &info(role),
        share,
        &aad(task_id, nonce, public_share),
    )
    .map_err(|e| Error::InvalidOptions(format!("HPKE: {e}")))?;
    Ok(Sealed { config_id: config.id, enc: b64(&enc.to_bytes()), payload: b64(&payload) })
}

/// Opens a share sealed to one of `keys` (the configs still accepted).
pub fn open(
    keys: &[HpkeKeypair],
    role: Role,
    task_id: &str,
    nonce: &[u8; NONCE_BYTES],
    public_share: &[u8],
    sealed: &Sealed,
) -> std::result::Result<Vec<u8>, OpenError> {
    let key = keys.iter().find(|k| k.config.id == sealed.config_id).ok_or(OpenError::OutdatedConfig)?;
    let private = unhex(&key.private_key).and_then(|b| PrivateKey::from_bytes(&b).ok()).ok_or(OpenError::Malformed)?;
    let enc = unb64(&sealed.enc).and_then(|b| EncappedKey::from_bytes(&b).ok()).ok_or(OpenError::Malformed)?;
    let payload = unb64(&sealed.payload).ok_or(OpenError::Malformed)?;
    hpke::single_shot_open::<AesGcm128, HkdfSha256, Suite>(
        &OpModeR::Base,
        &private,
        &enc,
        &info(role),
        &payload,
        &aad(task_id, nonce, public_share),
    )
    .map_err(|_| OpenError::Undecryptable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_share_opens_for_its_aggregator_only_and_only_for_its_report() {
        let mut rng = SecureRandom::new();
        let helper = HpkeKeypair::generate(1, &mut rng).unwrap();
        let other = HpkeKeypair::generate(1, &mut rng).unwrap();
        let (task, nonce, public) = ("t".repeat(64), [3u8; NONCE_BYTES], vec![9u8; 64]);
        let sealed = seal(&helper.config, Role::Helper, &task, &nonce, &public, b"share").unwrap();
        let keys = std::slice::from_ref(&helper);
        assert_eq!(open(keys, Role::Helper, &task, &nonce, &public, &sealed).unwrap(), b"share");
        // Another aggregator's key, role, report id, public share or task.
        let undecryptable = Err(OpenError::Undecryptable);
        assert_eq!(open(&[other], Role::Helper, &task, &nonce, &public, &sealed), undecryptable);
        assert_eq!(open(keys, Role::Leader, &task, &nonce, &public, &sealed), undecryptable);
        assert_eq!(open(keys, Role::Helper, &task, &[4; NONCE_BYTES], &public, &sealed), undecryptable);
        assert_eq!(open(keys, Role::Helper, &task, &nonce, &[8; 64], &sealed), undecryptable);
        assert_eq!(open(keys, Role::Helper, &"u".repeat(64), &nonce, &public, &sealed), undecryptable);
        // Altered, truncated, or sealed to a config no longer held.
        let mut altered = sealed.clone();
        altered.payload.replace_range(0..2, if &altered.payload[0..2] == "AA" { "AB" } else { "AA" });
        assert_eq!(open(keys, Role::Helper, &task, &nonce, &public, &altered), undecryptable);
        let truncated = Sealed { enc: sealed.enc[..10].into(), ..sealed.clone() };
        assert_eq!(open(keys, Role::Helper, &task, &nonce, &public, &truncated), Err(OpenError::Malformed));
        let stale = Sealed { config_id: 7, ..sealed.clone() };
        assert_eq!(open(keys, Role::Helper, &task, &nonce, &public, &stale), Err(OpenError::OutdatedConfig));
        // Rotation: the new key is added, the old one still opens its shares.
        let rotated = [HpkeKeypair::generate(2, &mut rng).unwrap(), helper.clone()];
        assert_eq!(open(&rotated, Role::Helper, &task, &nonce, &public, &sealed).unwrap(), b"share");
        // A bad public key is a coded error, not a panic.
        let broken = HpkeConfig { id: 1, public_key: "zz".into() };
        assert!(seal(&broken, Role::Helper, &task, &nonce, &public, b"x").is_err());
    }
}
