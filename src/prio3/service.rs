//! One aggregator of a Prio3 task as its Worker drives it (issue 21): the
//! steps of DAP's upload, aggregation and collection over byte strings the
//! host keeps in its own storage. The host stores; this checks and sums.
//!
//! Aggregation is one round (Prio3 is): the leader starts each report and
//! sends the helper its verifier share with the helper's sealed input
//! share; the helper opens, starts, combines both verifier shares into the
//! message, keeps its output share if the proof holds and answers the
//! message; the leader finishes with it. A report's output share waits
//! here, under its id, until the host merges it into its batch's stored
//! aggregate share in the same transaction that marks the id done.

use super::seal::{b64, unb64, unhex, HpkeConfig, HpkeKeypair, Sealed};
use super::task::{Aggregator, Pending, Rejection, Role, Task, NONCE_BYTES, VERIFY_KEY_BYTES};
use super::upload::{nonce, open_helper_share, open_upload, Opened, Refusal};
use crate::error::{Error, Result};
use crate::report::noise::SecureRandom;
use prio::field::Field128;
use prio::vdaf::{AggregateShare, OutputShare};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// What the leader sends the helper for one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelpRequest {
    pub id: String,
    pub day: String,
    pub model: String,
    /// The public share, base64url.
    pub public: String,
    pub helper: Sealed,
    /// The leader's verifier share, base64url.
    pub verifier: String,
}

/// The helper's answer for one report: the verifier message, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelpAnswer {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// A reason a report was not counted, as both aggregators count it.
pub fn rejection_code(r: Rejection) -> &'static str {
    match r {
        Rejection::Malformed => "malformed",
        Rejection::Invalid => "invalid",
    }
}

fn refusal_code(r: &Refusal) -> &'static str {
    match r {
        Refusal::Malformed(_) | Refusal::UnknownTask => "malformed",
        Refusal::OutdatedConfig => "outdatedConfig",
        Refusal::Undecryptable => "undecryptable",
    }
}

pub struct Service {
    aggregator: Aggregator,
    keys: Vec<HpkeKeypair>,
    task_id: String,
    pending: HashMap<String, Pending>,
    outputs: HashMap<String, OutputShare<Field128>>,
}

impl Service {
    /// `keys`: the HPKE keypairs still accepted, the one to advertise first.
    pub fn new(task_json: &str, role: Role, verify_key_hex: &str, keys_json: &str) -> Result<Service> {
        let task = Task::parse(task_json)?;
        let verify_key: [u8; VERIFY_KEY_BYTES] = unhex(verify_key_hex)
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| Error::InvalidOptions(format!("the verify key is {VERIFY_KEY_BYTES} bytes of hex")))?;
        let keys: Vec<HpkeKeypair> =
            serde_json::from_str(keys_json).map_err(|e| Error::InvalidOptions(format!("HPKE keys: {e}")))?;
        if keys.is_empty() {
            return Err(Error::InvalidOptions("HPKE keys: at least one keypair".into()));
        }
        let task_id = task.id();
        Ok(Service {
            aggregator: Aggregator::new(task, role, verify_key)?,
            keys,
            task_id,
            pending: HashMap::new(),
            outputs: HashMap::new(),
        })
    }

    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The config devices seal to now.
    pub fn config(&self) -> &HpkeConfig {
        &self.keys[0].config
    }

    /// The leader's check of an upload: its own share opened.
    pub fn open(&self, upload_json: &str) -> std::result::Result<Opened, Refusal> {
        open_upload(&self.task_id, &self.keys, upload_json)
    }

    /// The leader's first step: its verifier share for the helper (base64url).
    pub fn start(&mut self, id: &str, public: &[u8], share: &[u8]) -> std::result::Result<String, &'static str> {
        let nonce = nonce(id).map_err(|r| refusal_code(&r))?;
        let (pending, verifier) = self.aggregator.start(&nonce, public, share).map_err(rejection_code)?;
        self.pending.insert(id.to_string(), pending);
        Ok(b64(&verifier))
    }

    /// The helper's step on one report: the message for the leader, its
    /// own output share kept under the report's id.
    pub fn help(&mut self, request: &HelpRequest) -> HelpAnswer {
        let answer = |message, rejected: Option<&str>| HelpAnswer {
            id: request.id.clone(),
            message,
            rejected: rejected.map(str::to_string),
        };
        match self.help_one(request) {
            Ok(message) => answer(Some(message), None),
            Err(code) => answer(None, Some(code)),
        }
    }

    fn help_one(&mut self, request: &HelpRequest) -> std::result::Result<String, &'static str> {
        let nonce: [u8; NONCE_BYTES] = nonce(&request.id).map_err(|r| refusal_code(&r))?;
        let public = unb64(&request.public).ok_or("malformed")?;
        let verifier = unb64(&request.verifier).ok_or("malformed")?;
        let share = open_helper_share(&self.task_id, &self.keys, &nonce, &public, &request.helper)
            .map_err(|r| refusal_code(&r))?;
        let (pending, own) = self.aggregator.start(&nonce, &public, &share).map_err(rejection_code)?;
        let (message, out) = self.aggregator.combine(pending, &own, &verifier).map_err(rejection_code)?;
        self.outputs.insert(request.id.clone(), out);
        Ok(b64(&message))
    }

    /// The leader's last step: the helper's message for a started report.
    pub fn finish(&mut self, id: &str, message: &str) -> std::result::Result<(), &'static str> {
        let pending = self.pending.remove(id).ok_or("malformed")?;
        let message = unb64(message).ok_or("malformed")?;
        let out = self.aggregator.finish(pending, &message).map_err(rejection_code)?;
        self.outputs.insert(id.to_string(), out);
        Ok(())
    }

    /// Drops what a report left here (its job failed; it is retried whole).
    pub fn forget(&mut self, id: &str) {
        self.pending.remove(id);
        self.outputs.remove(id);
    }

    /// `stored` (a batch's aggregate share, None: empty) plus the output
    /// shares of `ids`, which are then dropped here.
    pub fn merge(&mut self, stored: Option<&[u8]>, ids: &[String]) -> Result<Vec<u8>> {
        let mut sum = self.stored_share(stored)?;
        for id in ids {
            let out = self
                .outputs
                .remove(id)
                .ok_or_else(|| Error::InvalidOptions(format!("prio3: no output share for report {id}")))?;
            self.aggregator.add(&mut sum, &out)?;
        }
        self.aggregator.encode_share(&sum)
    }

    /// A batch's aggregate share with this aggregator's noise: drawn once,
    /// when the batch is collected (the host stores the result).
    pub fn noised(&self, stored: Option<&[u8]>, rng: &mut SecureRandom) -> Result<Vec<u8>> {
        let mut sum = self.stored_share(stored)?;
        self.aggregator.add_noise(&mut sum, rng)?;
        self.aggregator.encode_share(&sum)
    }

    /// A batch's stored aggregate share decoded (None: nothing summed yet).
    fn stored_share(&self, stored: Option<&[u8]>) -> Result<AggregateShare<Field128>> {
        match stored {
            Some(bytes) => self.aggregator.decode_share(bytes),
            None => Ok(self.aggregator.empty()),
        }
    }
}

/// DAP's batch checksum: the XOR of the SHA-256 of each report id, so the
/// two aggregators can tell they summed the same reports.
pub fn checksum(previous: &str, ids: &[String]) -> String {
    let mut sum: [u8; 32] = unhex(previous).and_then(|b| b.try_into().ok()).unwrap_or([0; 32]);
    for id in ids {
        for (s, h) in sum.iter_mut().zip(Sha256::digest(id.as_bytes())) {
            *s ^= h;
        }
    }
    super::seal::hex(&sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_order_free_and_undoes_itself() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = checksum("", &ids(&["a", "b", "c"]));
        let b = checksum(&checksum("", &ids(&["c"])), &ids(&["b", "a"]));
        assert_eq!(a, b);
        assert_eq!(checksum(&a, &ids(&["a", "b", "c"])), "0".repeat(64));
    }
}
