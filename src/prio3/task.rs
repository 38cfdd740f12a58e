//! The Prio3 task and its measurement: a shopper-day's clipped
//! counts as one Prio3 measurement (draft-irtf-cfrg-vdaf, the `prio`
//! crate), secret-shared between a leader and a helper aggregator run by
//! different parties, with a zero-knowledge proof that every value is in
//! its range. Neither aggregator alone learns anything of a report; each
//! adds a full discrete Laplace draw to its aggregate share before it is
//! released, so a released sum is ε-DP against every reader, either
//! aggregator included.
//!
//! **The task** fixes what is measured, as a DAP task does: the policy's
//! cells over *every* arm of its experiments (a shopper fills only their
//! arm's, the rest are 0, so the layout says nothing of the arm), its
//! visit rows, the model release's two sides and the drift row. Its id is
//! the SHA-256 of its JSON (as bundle versions are); the store provisions both
//! aggregators with it, and a share of any other task is refused.
//!
//! **The measurement** is a vector of bits (Prio3SumVec with
//! `max_measurement` 1): each value is written in binary, least significant
//! bit first, in as many bits as its clip needs (a count clipped at 1: one
//! bit; revenue clipped at 50: six). The proof shows every entry is 0 or 1,
//! so a report can claim a count of at most 1 and a revenue below 64,
//! whatever it sends: a flood of fakes moves a sum by at most its count of
//! reports times the value's range. (The per-block clips of the mechanism
//! are not proven: they bound an honest shopper's sensitivity, not a
//! forger's reach.)

use crate::aggregates::released::{Estimate, Released, ReleasedCell, ReleasedDrift, ReleasedVisit};
use crate::decide::Policy;
use crate::error::{Error, Result};
use crate::report::ledger::TOP_SCORE_BINS;
use crate::report::mechanism::{
    domain, noise_q, Arms, CellValues, Metric, Report, VisitValues, CELL_METRICS, DRIFT_METRICS, TOP_SCORE_METRIC,
    VISIT_METRICS,
};
use crate::report::noise::{discrete_laplace_variance, SecureRandom};
use prio::codec::{Encode, ParameterizedDecode};
use prio::field::{Field128, FieldElement, FieldElementWithInteger};
use prio::vdaf::prio3::{optimal_chunk_length, Prio3, Prio3InputShare, Prio3PublicShare, Prio3SumVec};
use prio::vdaf::{Aggregatable, AggregateShare, Aggregator as Vdaf, Client, Collector, OutputShare, VerifyTransition};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const TASK_VERSION: u32 = 1;
pub const MECHANISM: &str = "prio3";
/// The VDAF's application context: a proof made for edgerec's reports is
/// valid for nothing else.
const CONTEXT: &[u8] = b"edgerec report v1";
/// Report ids are the VDAF's nonces: 16 bytes, as DAP's.
pub const NONCE_BYTES: usize = 16;
pub const VERIFY_KEY_BYTES: usize = 32;
/// The leader and the helper.
const AGGREGATORS: u8 = 2;

/// One cell of a task: (experiment, arm) outside of which it is None.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskCell {
    pub experiment: Option<String>,
    pub arm: Option<String>,
    pub slot: String,
    pub offer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskVisit {
    pub experiment: String,
    pub arm: String,
}

/// What both aggregators are provisioned with, and every device derives
/// from its policy (and model release) on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Task {
    pub version: u32,
    pub policy: String,
    /// ε of one report: the noise each aggregator adds is set by it.
    pub epsilon: f64,
    pub cells: Vec<TaskCell>,
    pub visits: Vec<TaskVisit>,
}

/// One metric over its rows: where it sits in the measurement.
#[derive(Debug, Clone, Copy)]
struct Block {
    metric: Metric,
    rows: usize,
    /// Rows one device can fill (its own arm of each experiment): what its
    /// sensitivity, and so the noise, is set by.
    device_rows: usize,
    /// Bits per value.
    width: usize,
    /// Offset of its first entry.
    start: usize,
}

/// Entries in a measurement of `blocks`.
fn length(blocks: &[Block]) -> usize {
    blocks.iter().map(|b| b.rows * b.width).sum()
}

/// Bits to write every value 0..=clip.
fn width(m: &Metric) -> usize {
    (m.cell_clip as u64 + 1).next_power_of_two().trailing_zeros() as usize
}

impl Task {
    /// The task of `policy`: every arm's cells and visit rows, and the two
    /// sides of `release_experiment` when the store follows a model release.
    pub fn of_policy(policy: &Policy, release_experiment: Option<&str>, epsilon: f64) -> Result<Task> {
        let release_rows = release_experiment
            .into_iter()
            .flat_map(|e| ["current", "candidate"].map(|side| ((e.to_string(), side.to_string()), 1.0)))
            .collect();
        let domain = domain(policy, Arms::All, release_rows)?;
        let task = Task {
            version: TASK_VERSION,
            policy: policy.id.clone(),
            epsilon,
            cells: domain
                .cells
                .into_iter()
                .map(|((names, slot, offer), _)| {
                    let (experiment, arm) = names.unzip();
                    TaskCell { experiment, arm, slot, offer }
                })
                .collect(),
            visits: domain.visits.into_iter().map(|((experiment, arm), _)| TaskVisit { experiment, arm }).collect(),
        };
        task.check()?;
        Ok(task)
    }

    pub fn parse(json: &str) -> Result<Task> {
        let task: Task = serde_json::from_str(json).map_err(|e| Error::InvalidOptions(format!("prio3 task: {e}")))?;
        task.check()?;
        Ok(task)
    }

    fn check(&self) -> Result<()> {
        let bad = |why: String| Err(Error::InvalidOptions(format!("prio3 task: {why}")));
        if self.version != TASK_VERSION {
            return bad(format!("version {} (this engine reads {TASK_VERSION})", self.version));
        }
        if !(self.epsilon.is_finite() && (0.01..=10.0).contains(&self.epsilon)) {
            return bad("epsilon must be in 0.01..=10".into());
        }
        if self.cells.len() > crate::report::mechanism::MAX_REPORT_CELLS {
            return bad(format!("more than {} cells", crate::report::mechanism::MAX_REPORT_CELLS));
        }
        Ok(())
    }

    /// The task id: the SHA-256 of its JSON, in the form of a bundle's
    /// version (`sha256:` and 64 hex digits).
    pub fn id(&self) -> String {
        crate::bundle::version_of(serde_json::to_string(self).unwrap_or_default().as_bytes())
    }

    /// Cells one device can fill: those outside experiments and, of each
    /// experiment, its largest arm's.
    fn device_cells(&self) -> usize {
        let mut per_arm: HashMap<(&str, &str), usize> = HashMap::new();
        let mut outside = 0;
        for c in &self.cells {
            match (&c.experiment, &c.arm) {
                (Some(e), Some(a)) => *per_arm.entry((e, a)).or_default() += 1,
                _ => outside += 1,
            }
        }
        let mut largest: HashMap<&str, usize> = HashMap::new();
        for ((e, _), n) in per_arm {
            let l = largest.entry(e).or_default();
            *l = (*l).max(n);
        }
        outside + largest.values().sum::<usize>()
    }

    fn blocks(&self) -> Vec<Block> {
        let (cells, visits) = (self.cells.len(), self.visits.len());
        // A device has one visit row per experiment: its arm's.
        let experiments = self.visits.iter().map(|v| &v.experiment).collect::<std::collections::HashSet<_>>().len();
        let device_cells = self.device_cells();
        let metrics = CELL_METRICS
            .iter()
            .map(|m| (*m, cells, device_cells))
            .chain(VISIT_METRICS.iter().map(|m| (*m, visits, experiments)))
            .chain(DRIFT_METRICS.iter().map(|m| (*m, 1, 1)))
            .chain(TOP_SCORE_METRIC.iter().map(|m| (*m, TOP_SCORE_BINS, TOP_SCORE_BINS)));
        let mut start = 0;
        metrics
            .map(|(metric, rows, device_rows)| {
                let block = Block { metric, rows, device_rows, width: width(&metric), start };
                start += rows * block.width;
                block
            })
            .collect()
    }

    /// Entries in the measurement.
    pub fn length(&self) -> usize {
        length(&self.blocks())
    }

    fn vdaf(&self) -> Result<Prio3SumVec> {
        let len = self.length();
        Prio3::new_sum_vec(AGGREGATORS, 1, len, optimal_chunk_length(len)).map_err(vdaf_error)
    }

    /// The measurement of a clipped, noiseless report: its rows found in
    /// the task's by name (a row the report lacks is 0). A report row the
    /// task does not hold is an error: the device's policy and the task
    /// disagree.
    pub fn measurement(&self, report: &Report) -> Result<Vec<u128>> {
        let cell_index: HashMap<TaskCell, usize> = self.cells.iter().cloned().zip(0..).collect();
        let visit_index: HashMap<TaskVisit, usize> = self.visits.iter().cloned().zip(0..).collect();
        let blocks = self.blocks();
        let mut values: Vec<Vec<i64>> = blocks.iter().map(|b| vec![0; b.rows]).collect();
        let missing = |what: String| Error::InvalidOptions(format!("prio3 task {} has no {what}", self.id()));
        for c in &report.cells {
            let key = TaskCell {
                experiment: c.experiment.clone(),
                arm: c.arm.clone(),
                slot: c.slot.clone(),
                offer: c.offer.clone(),
            };
            let &row = cell_index.get(&key).ok_or_else(|| missing(format!("cell {key:?}")))?;
            for (k, v) in c.values.to_array().into_iter().enumerate() {
                values[k][row] = v;
            }
        }
        for v in &report.visits {
            let key = TaskVisit { experiment: v.experiment.clone(), arm: v.arm.clone() };
            let &row = visit_index.get(&key).ok_or_else(|| missing(format!("visit row {key:?}")))?;
            for (k, x) in v.values.to_array().into_iter().enumerate() {
                values[CELL_METRICS.len() + k][row] = x;
            }
        }
        let drift = CELL_METRICS.len() + VISIT_METRICS.len();
        values[drift][0] = report.drift.values.views;
        values[drift + 1][0] = report.drift.values.unknown_views;
        for (bin, v) in report.drift.values.top_score.iter().enumerate().take(TOP_SCORE_BINS) {
            values[drift + 2][bin] = *v;
        }
        let mut bits = vec![0u128; length(&blocks)];
        for (block, values) in blocks.iter().zip(values) {
            for (row, v) in values.into_iter().enumerate() {
                let v = v.clamp(0, block.metric.cell_clip as i64) as u128;
                for bit in 0..block.width {
                    bits[block.start + row * block.width + bit] = (v >> bit) & 1;
                }
            }
        }
        Ok(bits)
    }

    /// The client's step: the public share and the leader's and helper's
    /// input shares of `measurement`, for the report id `nonce`.
    pub fn shard(&self, measurement: &[u128], nonce: &[u8; NONCE_BYTES]) -> Result<Shards> {
        let vdaf = self.vdaf()?;
        let (public, inputs) = vdaf.shard(CONTEXT, &measurement.to_vec(), nonce).map_err(vdaf_error)?;
        let encode = |x: &dyn Encode| x.get_encoded().map_err(|e| Error::InvalidOptions(format!("prio3: {e}")));
        Ok(Shards { public: encode(&public)?, leader: encode(&inputs[0])?, helper: encode(&inputs[1])? })
    }
}

/// A report's shares as bytes (the VDAF's encodings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shards {
    pub public: Vec<u8>,
    pub leader: Vec<u8>,
    pub helper: Vec<u8>,
}

fn vdaf_error(e: prio::vdaf::VdafError) -> Error {
    Error::InvalidOptions(format!("prio3: {e}"))
}

/// Which aggregator this is: the leader (id 0) holds the measurement share
/// in full, the helper (id 1) a seed it expands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leader,
    Helper,
}

/// One aggregator of one task: checks report shares with the other and
/// keeps only the sum of those that pass.
pub struct Aggregator {
    task: Task,
    vdaf: Prio3SumVec,
    role: Role,
    verify_key: [u8; VERIFY_KEY_BYTES],
}

/// A report share under verification, between the first message and the last.
pub struct Pending {
    state: <Prio3SumVec as Vdaf<VERIFY_KEY_BYTES, NONCE_BYTES>>::VerifyState,
}

/// Why a report share was not added: each a reason the aggregators count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Rejection {
    /// A share or message that does not decode.
    Malformed,
    /// The proof failed: a value out of its range, or shares that do not
    /// belong together.
    Invalid,
}

pub type Checked<T> = std::result::Result<T, Rejection>;

impl Aggregator {
    /// `verify_key` is shared by the two aggregators of a task and no one
    /// else (DAP's VDAF verification key).
    pub fn new(task: Task, role: Role, verify_key: [u8; VERIFY_KEY_BYTES]) -> Result<Aggregator> {
        task.check()?;
        let vdaf = task.vdaf()?;
        Ok(Aggregator { task, vdaf, role, verify_key })
    }

    pub fn task(&self) -> &Task {
        &self.task
    }

    fn agg_id(&self) -> usize {
        match self.role {
            Role::Leader => 0,
            Role::Helper => 1,
        }
    }

    /// First step on a report share: the verifier share to send the other
    /// aggregator, and what to finish with.
    pub fn start(&self, nonce: &[u8; NONCE_BYTES], public: &[u8], input: &[u8]) -> Checked<(Pending, Vec<u8>)> {
        let public = Prio3PublicShare::get_decoded_with_param(&self.vdaf, public).map_err(|_| Rejection::Malformed)?;
        let input = Prio3InputShare::get_decoded_with_param(&(&self.vdaf, self.agg_id()), input)
            .map_err(|_| Rejection::Malformed)?;
        let (state, share) = self
            .vdaf
            .verify_init(&self.verify_key, CONTEXT, self.agg_id(), &(), nonce, &public, &input)
            .map_err(|_| Rejection::Invalid)?;
        Ok((Pending { state }, share.get_encoded().map_err(|_| Rejection::Malformed)?))
    }

    /// The helper's step: with the leader's verifier share and its own, the
    /// verdict both aggregators finish with (sent back to the leader) and,
    /// if the proof holds, its output share.
    pub fn combine(&self, pending: Pending, own: &[u8], other: &[u8]) -> Checked<(Vec<u8>, OutputShare<Field128>)> {
        let decode = |bytes: &[u8]| {
            <Prio3SumVec as Vdaf<VERIFY_KEY_BYTES, NONCE_BYTES>>::VerifierShare::get_decoded_with_param(
                &pending.state,
                bytes,
            )
            .map_err(|_| Rejection::Malformed)
        };
        let shares = match self.role {
            Role::Leader => [decode(own)?, decode(other)?],
            Role::Helper => [decode(other)?, decode(own)?],
        };
        let message = self.vdaf.verifier_shares_to_message(CONTEXT, &(), shares).map_err(|_| Rejection::Invalid)?;
        let encoded = message.get_encoded().map_err(|_| Rejection::Malformed)?;
        let out = self.finish(pending, &encoded)?;
        Ok((encoded, out))
    }

    /// The last step: the verifier message (from the helper, or `combine`)
    /// turns a pending share into an output share, or rejects it.
    pub fn finish(&self, pending: Pending, message: &[u8]) -> Checked<OutputShare<Field128>> {
        let message = <Prio3SumVec as Vdaf<VERIFY_KEY_BYTES, NONCE_BYTES>>::VerifierMessage::get_decoded_with_param(
            &pending.state,
            message,
        )
        .map_err(|_| Rejection::Malformed)?;
        match self.vdaf.verify_next(CONTEXT, pending.state, message) {
            Ok(VerifyTransition::Finish(out)) => Ok(out),
            _ => Err(Rejection::Invalid),
        }
    }

    /// An empty aggregate share.
    pub fn empty(&self) -> AggregateShare<Field128> {
        self.vdaf.aggregate_init(&())
    }

    /// Adds `out` to `sum`.
    pub fn add(&self, sum: &mut AggregateShare<Field128>, out: &OutputShare<Field128>) -> Result<()> {
        sum.accumulate(out).map_err(vdaf_error)
    }

    /// This aggregator's noise: one full discrete Laplace per value (on its
    /// least significant entry, as decoding is linear), so the released sum
    /// is ε-DP even against the other aggregator, who knows its own draw.
    pub fn add_noise(&self, sum: &mut AggregateShare<Field128>, rng: &mut SecureRandom) -> Result<()> {
        let blocks = self.task.blocks();
        let mut noise = vec![Field128::zero(); length(&blocks)];
        for block in blocks {
            let q = noise_q(&block.metric, block.device_rows, self.task.epsilon);
            for row in 0..block.rows {
                noise[block.start + row * block.width] = signed(rng.discrete_laplace(q)?);
            }
        }
        sum.merge(&AggregateShare::from(noise)).map_err(vdaf_error)
    }

    pub fn encode_share(&self, sum: &AggregateShare<Field128>) -> Result<Vec<u8>> {
        sum.get_encoded().map_err(|e| Error::InvalidOptions(format!("prio3: {e}")))
    }

    pub fn decode_share(&self, bytes: &[u8]) -> Result<AggregateShare<Field128>> {
        decode_aggregate(&self.vdaf, bytes)
    }
}

fn decode_aggregate(vdaf: &Prio3SumVec, bytes: &[u8]) -> Result<AggregateShare<Field128>> {
    AggregateShare::get_decoded_with_param(&(vdaf, &()), bytes)
        .map_err(|e| Error::InvalidOptions(format!("prio3 aggregate share: {e}")))
}

fn signed(x: i64) -> Field128 {
    let magnitude = Field128::from(x.unsigned_abs() as u128);
    if x < 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// A field sum read as a signed integer (noise can take it below zero).
fn unsigned_to_signed(x: u128) -> i128 {
    let p = Field128::modulus();
    if x > p / 2 {
        -((p - x) as i128)
    } else {
        x as i128
    }
}

/// Which batch a released sum covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub day: String,
    pub model: Option<String>,
    pub reports: u64,
}

impl Task {
    /// The collector's step: the two aggregators' noised shares of one
    /// batch combined into released rows, in the aggregates format every
    /// reader already takes; each value's variance is two full draws'.
    pub fn collect(&self, leader: &[u8], helper: &[u8], batch: &Batch) -> Result<Released> {
        let vdaf = self.vdaf()?;
        let shares = [decode_aggregate(&vdaf, leader)?, decode_aggregate(&vdaf, helper)?];
        let sums = vdaf.unshard(&(), shares, batch.reports as usize).map_err(vdaf_error)?;
        let blocks = self.blocks();
        let estimate = |block: &Block, row: usize| {
            let entries = &sums[block.start + row * block.width..][..block.width];
            let sum: i128 = entries.iter().enumerate().map(|(bit, &x)| unsigned_to_signed(x) << bit).sum();
            let q = noise_q(&block.metric, block.device_rows, self.epsilon);
            Estimate { sum: sum as f64, variance: 2.0 * discrete_laplace_variance(q) }
        };
        let (cell_blocks, rest) = blocks.split_at(CELL_METRICS.len());
        let (visit_blocks, drift_blocks) = rest.split_at(VISIT_METRICS.len());
        let cells = self
            .cells
            .iter()
            .enumerate()
            .map(|(row, c)| ReleasedCell {
                day: batch.day.clone(),
                model: batch.model.clone(),
                experiment: c.experiment.clone(),
                arm: c.arm.clone(),
                slot: c.slot.clone(),
                offer: c.offer.clone(),
                reports: batch.reports,
                values: CellValues::from_array(std::array::from_fn(|k| estimate(&cell_blocks[k], row))),
            })
            .collect();
        let visits = self
            .visits
            .iter()
            .enumerate()
            .map(|(row, v)| ReleasedVisit {
                day: batch.day.clone(),
                model: batch.model.clone(),
                experiment: v.experiment.clone(),
                arm: v.arm.clone(),
                reports: batch.reports,
                values: VisitValues::from_array(std::array::from_fn(|k| estimate(&visit_blocks[k], row))),
            })
            .collect();
        let drift = ReleasedDrift {
            day: batch.day.clone(),
            model: batch.model.clone(),
            reports: batch.reports,
            views: estimate(&drift_blocks[0], 0),
            unknown_views: estimate(&drift_blocks[1], 0),
            top_score: (0..TOP_SCORE_BINS).map(|bin| estimate(&drift_blocks[2], bin)).collect(),
        };
        Ok(Released { policy: self.policy.clone(), k: batch.reports, cells, visits, drift: vec![drift] })
    }
}
