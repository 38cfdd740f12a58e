//! A Prio3 report on its way (issue 21), after DAP's upload: the device
//! measures its day ([`Measured`], never sent), shards the measurement and
//! seals each input share to its aggregator ([`Upload`], sent once, to the
//! leader); the leader opens its own share and passes the helper's on
//! sealed ([`open_upload`]).
//!
//! The public part of an upload is what DAP's report metadata holds and
//! our other reports show already: the report id, the day, the task and
//! the model version (which batch it belongs to). Everything counted is in
//! the shares.

use super::seal::{b64, open, seal, unb64, HpkeConfig, HpkeKeypair, OpenError, Sealed};
use super::task::{Role, Task, NONCE_BYTES};
use crate::decide::Policy;
use crate::error::{Error, Result};
use crate::report::ledger::DayCounts;
use crate::report::mechanism::{clipped_report, Source};
use crate::report::noise::SecureRandom;
use serde::{Deserialize, Serialize};

pub const UPLOAD_VERSION: u32 = 1;

/// What the engine hands its host for sealing: the task, the upload's
/// public fields, and the measurement's bits ("0" and "1"). It holds the
/// shopper's clipped counts in the clear: it stays on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Measured {
    pub version: u32,
    pub mechanism: String,
    pub task: Task,
    pub id: String,
    pub day: String,
    pub model: String,
    pub measurement: String,
}

/// The one message a device sends (to the leader).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Upload {
    pub version: u32,
    /// The task's id (`sha256:` …).
    pub task: String,
    /// The report id and VDAF nonce: 16 bytes, 32 hex digits.
    pub id: String,
    pub day: String,
    pub model: String,
    /// The VDAF's public share, base64url.
    pub public: String,
    pub leader: Sealed,
    pub helper: Sealed,
}

/// The measurement of one shopper-day under `policy`'s task.
pub fn measure(
    policy: &Policy,
    source: &Source,
    counts: &DayCounts,
    epsilon: f64,
    rng: &mut SecureRandom,
) -> Result<Measured> {
    let report = clipped_report(policy, source, counts, rng)?;
    let task = Task::of_policy(policy, source.release.map(|p| p.experiment.as_str()), epsilon)?;
    let bits = task.measurement(&report)?;
    Ok(Measured {
        version: UPLOAD_VERSION,
        mechanism: super::task::MECHANISM.into(),
        id: report.id,
        day: report.day.to_string(),
        model: report.model,
        measurement: bits.iter().map(|&b| if b == 1 { '1' } else { '0' }).collect(),
        task,
    })
}

fn nonce_of(id: &str) -> Option<[u8; NONCE_BYTES]> {
    let is_hex = id.len() == 2 * NONCE_BYTES && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    is_hex.then(|| super::seal::unhex(id)?.try_into().ok()).flatten()
}

/// The device's step: `measured` sharded and each share sealed to its
/// aggregator's config.
pub fn seal_upload(measured: &Measured, leader: &HpkeConfig, helper: &HpkeConfig) -> Result<Upload> {
    let bad = |why: &str| Error::InvalidOptions(format!("prio3 measurement: {why}"));
    if measured.version != UPLOAD_VERSION || measured.mechanism != super::task::MECHANISM {
        return Err(bad("not a prio3 measurement of this version"));
    }
    let nonce = nonce_of(&measured.id).ok_or_else(|| bad("id must be 32 lowercase hex digits"))?;
    let bits: Vec<u128> = measured
        .measurement
        .chars()
        .map(|c| match c {
            '0' => Ok(0),
            '1' => Ok(1),
            _ => Err(bad("bits are 0 or 1")),
        })
        .collect::<Result<_>>()?;
    if bits.len() != measured.task.length() {
        return Err(bad("its length is not its task's"));
    }
    let shards = measured.task.shard(&bits, &nonce)?;
    let task = measured.task.id();
    Ok(Upload {
        version: UPLOAD_VERSION,
        leader: seal(leader, Role::Leader, &task, &nonce, &shards.public, &shards.leader)?,
        helper: seal(helper, Role::Helper, &task, &nonce, &shards.public, &shards.helper)?,
        task,
        id: measured.id.clone(),
        day: measured.day.clone(),
        model: measured.model.clone(),
        public: b64(&shards.public),
    })
}

/// Why an upload was refused: each a code the aggregators answer with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Refusal {
    /// Not an upload of this version: bad JSON, fields, id, day or bytes.
    Malformed(String),
    /// For a task this aggregator was not given.
    UnknownTask,
    /// Sealed to a config this aggregator does not hold (DAP's
    /// `outdatedConfig`): fetch the configs and seal again.
    OutdatedConfig,
    /// The share did not open: altered, or sealed for another report.
    Undecryptable,
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "INVALID_REPORT",
            Refusal::UnknownTask => "UNKNOWN_TASK",
            Refusal::OutdatedConfig => "OUTDATED_CONFIG",
            Refusal::Undecryptable => "UNDECRYPTABLE",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refusal::Malformed(why) => why.clone(),
            Refusal::UnknownTask => "no such task here".into(),
            Refusal::OutdatedConfig => "sealed to an HPKE config this aggregator no longer holds".into(),
            Refusal::Undecryptable => "the input share does not open".into(),
        }
    }
}

impl From<OpenError> for Refusal {
    fn from(e: OpenError) -> Refusal {
        match e {
            OpenError::OutdatedConfig => Refusal::OutdatedConfig,
            OpenError::Malformed => Refusal::Malformed("a sealed share is not base64url of the right size".into()),
            OpenError::Undecryptable => Refusal::Undecryptable,
        }
    }
}

/// An upload as the leader keeps it: its own share opened, the helper's
/// still sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub id: String,
    pub nonce: [u8; NONCE_BYTES],
    pub day: String,
    pub model: String,
    pub public: Vec<u8>,
    pub share: Vec<u8>,
    pub helper: Sealed,
}

/// The leader's first step on an upload's JSON.
pub fn open_upload(task_id: &str, keys: &[HpkeKeypair], json: &str) -> std::result::Result<Opened, Refusal> {
    let upload: Upload = serde_json::from_str(json).map_err(|e| Refusal::Malformed(format!("upload: {e}")))?;
    if upload.version != UPLOAD_VERSION {
        return Err(Refusal::Malformed(format!("upload version {} (this reads {UPLOAD_VERSION})", upload.version)));
    }
    if upload.task != task_id {
        return Err(Refusal::UnknownTask);
    }
    let nonce = nonce(&upload.id)?;
    if crate::day::Day::parse(&upload.day).is_none() {
        return Err(Refusal::Malformed("day must be a YYYY-MM-DD date".into()));
    }
    if !crate::bundle::is_version(&upload.model) {
        return Err(Refusal::Malformed("model must be \"sha256:\" and 64 lowercase hex digits".into()));
    }
    let public = unb64(&upload.public).ok_or_else(|| Refusal::Malformed("public is not base64url".into()))?;
    let share = open(keys, Role::Leader, task_id, &nonce, &public, &upload.leader)?;
    Ok(Opened { id: upload.id, nonce, day: upload.day, model: upload.model, public, share, helper: upload.helper })
}

/// The helper's step on the share the leader passes on.
pub fn open_helper_share(
    task_id: &str,
    keys: &[HpkeKeypair],
    nonce: &[u8; NONCE_BYTES],
    public: &[u8],
    sealed: &Sealed,
) -> std::result::Result<Vec<u8>, Refusal> {
    Ok(open(keys, Role::Helper, task_id, nonce, public, sealed)?)
}

/// A report id's nonce, or a refusal.
pub fn nonce(id: &str) -> std::result::Result<[u8; NONCE_BYTES], Refusal> {
    nonce_of(id).ok_or_else(|| Refusal::Malformed("id must be 32 lowercase hex digits".into()))
}
