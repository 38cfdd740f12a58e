//! Prio3 reports (issue 21) through both aggregators' steps, natively: the
//! sums are the shoppers' clipped counts, a forged count or revenue fails
//! the proof, broken shares are refused, and one aggregator's share looks
//! like noise.

mod common;

use common::default_bytes;
use edgerec::prio3::task::{Aggregator, Batch, Rejection, Role, Shards, Task, NONCE_BYTES};
use edgerec::report::ledger::{CellCounts, Day, DayCounts, DriftCounts, VisitCounts};
use edgerec::report::mechanism::{clipped_report, Report, Source};
use edgerec::report::noise::SecureRandom;
#[path = "support/forger.rs"]
mod forger;
use edgerec::aggregates::released::Released;
use edgerec::decide::OfferRequest;
use edgerec::Engine;
use forger::forge;
use prio::field::{Field128, FieldElementWithInteger};

const VERIFY_KEY: [u8; 32] = [7; 32];

fn engine() -> Engine {
    Engine::load(&default_bytes()).unwrap()
}

/// A shopper-day of shopper `i`: what they saw and took in the cart slot.
fn day_of(e: &Engine, i: u32) -> DayCounts {
    let mut day =
        DayCounts { day: Day::parse("2026-12-01").unwrap(), policy: e.policy().id.clone(), ..Default::default() };
    let cell = CellCounts {
        impressions: 1 + i % 3,
        clicks: i % 2,
        add_to_carts: u32::from(i.is_multiple_of(5)),
        purchases: 0,
        revenue: f64::from(i % 70),
    };
    let offer = if i.is_multiple_of(2) { "goes-with" } else { "bestseller" };
    day.cells.entry("cart".into()).or_default().insert(offer.into(), cell);
    let visit = VisitCounts {
        exposed: true,
        converted: i.is_multiple_of(4),
        orders: i % 3,
        revenue: f64::from(i * 7 % 260),
        order_session: None,
    };
    for e in &e.policy().experiments {
        day.visits.insert(e.id.clone(), visit);
    }
    day.drift = DriftCounts { views: i % 14, unknown_views: i % 4, top_score_bin: Some((i % 5) as u8) };
    day
}

fn report_of(e: &Engine, i: u32) -> Report {
    let key = format!("shopper-{i}");
    let source = Source { shopper_key: &key, model: "sha256:test", release: None };
    clipped_report(e.policy(), &source, &day_of(e, i), &mut SecureRandom::new()).unwrap()
}

fn nonce(i: u32) -> [u8; NONCE_BYTES] {
    let mut n = [0u8; NONCE_BYTES];
    n[..4].copy_from_slice(&i.to_le_bytes());
    n
}

struct Pair {
    leader: Aggregator,
    helper: Aggregator,
}

impl Pair {
    fn new(task: &Task) -> Pair {
        Pair {
            leader: Aggregator::new(task.clone(), Role::Leader, VERIFY_KEY).unwrap(),
            helper: Aggregator::new(task.clone(), Role::Helper, VERIFY_KEY).unwrap(),
        }
    }

    /// The one round of verification, as the leader and helper run it:
    /// each aggregator's output share, or why the report was refused.
    fn verify(
        &self,
        nonce: &[u8; NONCE_BYTES],
        s: &Shards,
    ) -> Result<(prio::vdaf::OutputShare<Field128>, prio::vdaf::OutputShare<Field128>), Rejection> {
        let (leader_pending, leader_share) = self.leader.start(nonce, &s.public, &s.leader)?;
        let (helper_pending, helper_share) = self.helper.start(nonce, &s.public, &s.helper)?;
        let (message, helper_out) = self.helper.combine(helper_pending, &helper_share, &leader_share)?;
        let leader_out = self.leader.finish(leader_pending, &message)?;
        Ok((leader_out, helper_out))
    }
}

/// The clipped truth of a task's sum, the way the collector decodes it.
fn plain_sum(task: &Task, reports: &[Report]) -> Vec<i64> {
    let mut sum = vec![0i64; task.length()];
    for r in reports {
        for (s, bit) in sum.iter_mut().zip(task.measurement(r).unwrap()) {
            *s += bit as i64;
        }
    }
    sum
}

fn released_values(r: &Released) -> Vec<f64> {
    let mut v: Vec<f64> = r.cells.iter().flat_map(|c| c.values.to_array().map(|e| e.sum)).collect();
    v.extend(r.visits.iter().flat_map(|c| c.values.to_array().map(|e| e.sum)));
    for d in &r.drift {
        v.extend([d.views.sum, d.unknown_views.sum]);
        v.extend(d.top_score.iter().map(|e| e.sum));
    }
    v
}

fn expected_values(reports: &[Report], task: &Task) -> Vec<f64> {
    // Every released value is the sum of the clipped report values of its row.
    let mut cells = vec![[0.0; 5]; task.cells.len()];
    let mut visits = vec![[0.0; 4]; task.visits.len()];
    let (mut views, mut unknown, mut top) = (0.0, 0.0, vec![0.0; 5]);
    for r in reports {
        for c in &r.cells {
            let row = task.cells.iter().position(|t| t.slot == c.slot && t.offer == c.offer && t.arm == c.arm).unwrap();
            for (k, v) in c.values.to_array().into_iter().enumerate() {
                cells[row][k] += v as f64;
            }
        }
        for v in &r.visits {
            let row = task.visits.iter().position(|t| t.experiment == v.experiment && t.arm == v.arm).unwrap();
            for (k, x) in v.values.to_array().into_iter().enumerate() {
                visits[row][k] += x as f64;
            }
        }
        views += r.drift.values.views as f64;
        unknown += r.drift.values.unknown_views as f64;
        for (t, v) in top.iter_mut().zip(&r.drift.values.top_score) {
            *t += *v as f64;
        }
    }
    let mut v: Vec<f64> = cells.into_iter().flatten().collect();
    v.extend(visits.into_iter().flatten());
    v.extend([views, unknown]);
    v.extend(top);
    v
}

#[test]
fn a_task_covers_every_arm_and_a_report_fills_only_its_own() {
    let e = engine();
    let task = Task::of_policy(e.policy(), Some("model-w49"), 1.0).unwrap();
    let arms: std::collections::BTreeSet<_> = task.cells.iter().filter_map(|c| c.arm.clone()).collect();
    assert!(arms.len() >= 2, "{arms:?}");
    assert_eq!(task.visits.iter().filter(|v| v.experiment == "model-w49").count(), 2);
    assert_eq!(Task::parse(&serde_json::to_string(&task).unwrap()).unwrap().id(), task.id());
    let other = Task::of_policy(e.policy(), None, 1.0).unwrap();
    assert_ne!(other.id(), task.id());
    let r = report_of(&e, 1);
    let bits = other.measurement(&r).unwrap();
    assert_eq!(bits.len(), other.length());
    assert!(bits.iter().all(|&b| b <= 1));
    eprintln!(
        "online-retail-default: {} cells, {} visit rows, {} entries",
        other.cells.len(),
        other.visits.len(),
        other.length()
    );
}

#[test]
fn the_released_sums_are_the_clipped_counts_plus_two_noise_draws() {
    let e = engine();
    let task = Task::of_policy(e.policy(), None, 1.0).unwrap();
    let pair = Pair::new(&task);
    let reports: Vec<Report> = (0..120).map(|i| report_of(&e, i)).collect();
    let (mut leader_sum, mut helper_sum) = (pair.leader.empty(), pair.helper.empty());
    for (i, r) in reports.iter().enumerate() {
        let shards = task.shard(&task.measurement(r).unwrap(), &nonce(i as u32)).unwrap();
        let (l, h) = pair.verify(&nonce(i as u32), &shards).unwrap();
        pair.leader.add(&mut leader_sum, &l).unwrap();
        pair.helper.add(&mut helper_sum, &h).unwrap();
    }
    let batch = Batch { day: "2026-12-01".into(), model: Some("sha256:test".into()), reports: reports.len() as u64 };
    // Without noise the sums are exact.
    let exact = task
        .collect(
            &pair.leader.encode_share(&leader_sum).unwrap(),
            &pair.helper.encode_share(&helper_sum).unwrap(),
            &batch,
        )
        .unwrap();
    let want = expected_values(&reports, &task);
    assert_eq!(released_values(&exact), want);
    assert!(want.iter().sum::<f64>() > 500.0);
    assert_eq!(plain_sum(&task, &reports).len(), task.length());
    // With each aggregator's noise: off by two draws, within their stated variance.
    let mut rng = SecureRandom::new();
    let mut z2 = Vec::new();
    for _ in 0..40 {
        let (mut l, mut h) = (leader_sum.clone(), helper_sum.clone());
        pair.leader.add_noise(&mut l, &mut rng).unwrap();
        pair.helper.add_noise(&mut h, &mut rng).unwrap();
        let noisy = task
            .collect(&pair.leader.encode_share(&l).unwrap(), &pair.helper.encode_share(&h).unwrap(), &batch)
            .unwrap();
        let variances: Vec<f64> = noisy.cells.iter().map(|c| c.values.clicks.variance).collect();
        for ((got, want), var) in noisy
            .cells
            .iter()
            .map(|c| c.values.clicks.sum)
            .zip(exact.cells.iter().map(|c| c.values.clicks.sum))
            .zip(variances)
        {
            z2.push((got - want).powi(2) / var);
        }
    }
    let mean_z2 = z2.iter().sum::<f64>() / z2.len() as f64;
    eprintln!("clicks: mean squared error / stated variance {mean_z2:.2} over {} sums", z2.len());
    assert!((0.6..1.5).contains(&mean_z2), "{mean_z2}");
    let released = Released::parse(&serde_json::to_string(&exact).unwrap()).unwrap();
    assert!(released.priors(e.policy()).unwrap().contains_key("goes-with"));
}

#[test]
fn a_forged_count_of_five_or_revenue_out_of_range_fails_the_proof() {
    let e = engine();
    let task = Task::of_policy(e.policy(), None, 1.0).unwrap();
    let pair = Pair::new(&task);
    let honest = task.measurement(&report_of(&e, 3)).unwrap();
    // The forger's path is the honest one for an honest measurement.
    assert!(pair.verify(&nonce(1), &forge(&task, &honest, &nonce(1)).unwrap()).is_ok());
    // A click count of 5 where 0 or 1 is allowed (the first cell's clicks
    // entry), and a revenue bit of 2 (a value past its range).
    let clicks = task.cells.len(); // impressions come first, one bit a cell
    let mut five = honest.clone();
    five[clicks] = 5;
    let mut revenue = honest.clone();
    revenue[task.cells.len() * 4] = 2;
    for forged in [five, revenue] {
        let shards = forge(&task, &forged, &nonce(2)).unwrap();
        assert_eq!(pair.verify(&nonce(2), &shards).err(), Some(Rejection::Invalid));
    }
}

#[test]
fn broken_shares_and_shares_of_another_report_or_task_are_refused() {
    let e = engine();
    let task = Task::of_policy(e.policy(), None, 1.0).unwrap();
    let pair = Pair::new(&task);
    let m = task.measurement(&report_of(&e, 5)).unwrap();
    let good = task.shard(&m, &nonce(9)).unwrap();
    let truncated = Shards { leader: good.leader[..good.leader.len() - 3].to_vec(), ..good.clone() };
    assert_eq!(pair.verify(&nonce(9), &truncated).err(), Some(Rejection::Malformed));
    let mut flipped = good.clone();
    flipped.leader[40] ^= 1;
    assert_eq!(pair.verify(&nonce(9), &flipped).err(), Some(Rejection::Invalid));
    // The same shares under another report id (a replay with a new id).
    assert_eq!(pair.verify(&nonce(10), &good).err(), Some(Rejection::Invalid));
    // A helper share of another report.
    let other = task.shard(&m, &nonce(9)).unwrap();
    assert_eq!(
        pair.verify(&nonce(9), &Shards { helper: other.helper, ..good.clone() }).err(),
        Some(Rejection::Invalid)
    );
    // Shares of a task with another layout.
    let release = Task::of_policy(e.policy(), Some("model-w49"), 1.0).unwrap();
    let r = release.shard(&release.measurement(&report_of(&e, 5)).unwrap(), &nonce(9)).unwrap();
    assert_eq!(pair.verify(&nonce(9), &r).err(), Some(Rejection::Malformed));
    // An aggregator with another verification key fails the proof.
    let stranger = Aggregator::new(task.clone(), Role::Helper, [8; 32]).unwrap();
    let (_, ls) = pair.leader.start(&nonce(9), &good.public, &good.leader).unwrap();
    let (hp, hs) = stranger.start(&nonce(9), &good.public, &good.helper).unwrap();
    assert_eq!(stranger.combine(hp, &hs, &ls).err(), Some(Rejection::Invalid));
    // A verifier message that does not decode.
    let (lp, _) = pair.leader.start(&nonce(9), &good.public, &good.leader).unwrap();
    assert_eq!(pair.leader.finish(lp, &[0; 4]).err(), Some(Rejection::Malformed));
}

#[test]
fn one_aggregators_share_of_a_report_looks_uniform() {
    let e = engine();
    let task = Task::of_policy(e.policy(), None, 1.0).unwrap();
    // The same measurement, mostly zeros, shared 200 times: the leader's
    // field elements must not show it (about half below p/2, few small).
    let m = task.measurement(&report_of(&e, 7)).unwrap();
    let p = Field128::modulus();
    let (mut low, mut small, mut total) = (0usize, 0usize, 0usize);
    for i in 0..200 {
        let s = task.shard(&m, &nonce(i)).unwrap();
        for chunk in s.leader.chunks_exact(16).take(task.length()) {
            let x = u128::from_le_bytes(chunk.try_into().unwrap());
            assert!(x < p);
            low += usize::from(x < p / 2);
            small += usize::from(x < 1 << 20);
            total += 1;
        }
        // The helper holds only seeds.
        assert!(s.helper.len() <= 64, "{}", s.helper.len());
    }
    let share = low as f64 / total as f64;
    eprintln!("leader share elements below p/2: {:.4} of {total}; below 2^20: {small}", share);
    assert!((share - 0.5).abs() < 0.01, "{share}");
    assert_eq!(small, 0);
}

/// The whole path natively, as the hosts drive it: the engine's
/// measurement (under `prio3`), sealed; the leader opens its share and
/// starts; the helper opens its sealed share, verifies and answers; both
/// sum; the collector's release holds the device's counts plus noise. A
/// share sealed for the helper does not open at the leader, and the wrong
/// config is `OUTDATED_CONFIG`.
#[test]
fn an_engine_measurement_sealed_opened_verified_and_released_natively() {
    use edgerec::prio3::seal::HpkeKeypair;
    use edgerec::prio3::service::{HelpRequest, Service};
    use edgerec::prio3::upload::{seal_upload, Measured, Refusal};
    let mut e = engine();
    e.set_reporting(r#"{"mechanism":"prio3"}"#).unwrap();
    e.set_consent(true);
    let now = 1_764_763_200_000.0; // 2025-12-03 12:00 UTC
    let item = e.model().catalog_entries()[0].item.clone();
    e.track_at("add_to_cart", &item, now).unwrap();
    let d = e.next_best_offer(&OfferRequest { slot: "cart".into(), ..Default::default() }, now).unwrap();
    assert!(d.offer.is_some(), "the cart slot shows an offer");
    e.shown(d.id.unwrap(), now).unwrap();
    let measured: Measured = serde_json::from_str(&e.preview_report(now).unwrap().unwrap()).unwrap();
    assert_eq!(measured.task, e.prio3_task().unwrap());
    let mut rng = SecureRandom::new();
    let (leader_key, helper_key) =
        (HpkeKeypair::generate(1, &mut rng).unwrap(), HpkeKeypair::generate(1, &mut rng).unwrap());
    let upload = seal_upload(&measured, &leader_key.config, &helper_key.config).unwrap();
    let json = serde_json::to_string(&upload).unwrap();
    assert!(!json.contains(&measured.measurement) && !json.contains("cells"));
    let task = serde_json::to_string(&measured.task).unwrap();
    let keys = |k: &HpkeKeypair| serde_json::to_string(&[k]).unwrap();
    let key = "0f".repeat(32);
    let mut leader = Service::new(&task, Role::Leader, &key, &keys(&leader_key)).unwrap();
    let mut helper = Service::new(&task, Role::Helper, &key, &keys(&helper_key)).unwrap();
    let opened = leader.open(&json).unwrap();
    let verifier = leader.start(&opened.id, &opened.public, &opened.share).unwrap();
    let request = HelpRequest {
        id: opened.id.clone(),
        day: opened.day.clone(),
        model: opened.model.clone(),
        public: edgerec::prio3::seal::b64(&opened.public),
        helper: opened.helper.clone(),
        verifier,
    };
    let answer = helper.help(&request);
    leader.finish(&opened.id, answer.message.as_deref().unwrap()).unwrap();
    let ids = [opened.id.clone()];
    let (l, h) = (leader.merge(None, &ids).unwrap(), helper.merge(None, &ids).unwrap());
    let batch = Batch { day: opened.day.clone(), model: Some(opened.model.clone()), reports: 1 };
    let released = measured.task.collect(&l, &h, &batch).unwrap();
    // Without noise, the one device's counts: its arm's visit row says it was exposed.
    let exposed: f64 = released.visits.iter().map(|v| v.values.exposed.sum).sum();
    assert_eq!(
        exposed,
        measured.task.visits.iter().map(|v| &v.experiment).collect::<std::collections::HashSet<_>>().len() as f64
    );
    // The helper's share is sealed to the helper: the leader's keys do not open it.
    let mut swapped = upload.clone();
    swapped.leader = upload.helper.clone();
    assert_eq!(leader.open(&serde_json::to_string(&swapped).unwrap()).unwrap_err(), Refusal::Undecryptable);
    let stale =
        seal_upload(&measured, &HpkeKeypair::generate(9, &mut rng).unwrap().config, &helper_key.config).unwrap();
    assert_eq!(leader.open(&serde_json::to_string(&stale).unwrap()).unwrap_err(), Refusal::OutdatedConfig);
}
