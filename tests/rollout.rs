//! `edgerec rollout`'s sequential test on simulated canaries: each day,
//! the two sides' visit rows are what the collector would release for a
//! store of `DEVICES` device-days — true conversions drawn per side, plus
//! one full draw of the reports' discrete Laplace noise per row (the
//! reports' ε shares, distributed noise) — and the decision is read every
//! day, as a store would. A/A canaries must be promoted at most at the
//! test's α; better ones promoted, worse ones rolled back. Every draw comes
//! from a seeded stream, so the rates printed are the same on every run.

use edgerec::aggregates::released::{Estimate, Released, ReleasedVisit};
use edgerec::aggregates::rollout::{decide, RolloutStep};
use edgerec::release::{Release, Side};
use edgerec::report::ledger::Day;
use edgerec::report::mechanism::{noise_q, VisitValues, VISIT_METRICS};
use edgerec::report::noise::discrete_laplace_variance;

const DEVICES: f64 = 10_000.0;
const BASE_CONVERSION: f64 = 0.08;
const T0: &str = "2026-12-01";

/// A seeded stream for the simulated shoppers and the privacy noise.
struct Stream(u64);

impl Stream {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 + 1e-12
    }

    /// Binomial(n, p) by its normal approximation (n p in the hundreds).
    fn binomial(&mut self, n: f64, p: f64) -> f64 {
        let z = (-2.0 * self.unit().ln()).sqrt() * (std::f64::consts::TAU * self.unit()).cos();
        (n * p + (n * p * (1.0 - p)).sqrt() * z).round().clamp(0.0, n)
    }

    /// Discrete Laplace P(x) ∝ q^|x| as the engine draws it: two geometrics' difference.
    fn discrete_laplace(&mut self, q: f64) -> f64 {
        let mut geometric = || (self.unit().ln() / q.ln()).floor();
        geometric() - geometric()
    }
}

fn release(share: f64) -> Release {
    let v = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    Release::parse(
        &serde_json::json!({
            "version": 1, "experiment": "model-w49",
            "current": { "url": "a.edgerec", "version": v('a'), "dim": 32, "catalog": "shop" },
            "candidate": { "url": "b.edgerec", "version": v('b'), "dim": 32, "catalog": "shop" },
            "canaryShare": share,
        })
        .to_string(),
    )
    .unwrap()
}

/// One released visit row: a side's day, each metric with one full draw of
/// noise (distributed noise: a released sum carries one) and its variance.
fn row(day: &str, side: Side, exposed: f64, converted: f64, rng: &mut Stream) -> ReleasedVisit {
    let orders = converted;
    let revenue = converted * 40.0;
    let true_values = [exposed, converted, orders, revenue];
    let noisy: Vec<Estimate> = VISIT_METRICS
        .iter()
        .zip(true_values)
        .map(|(m, v)| {
            let q = noise_q(m, 2, 1.0); // two visit rows a report: the policy's experiment and the release's
            Estimate { sum: v + rng.discrete_laplace(q), variance: discrete_laplace_variance(q) }
        })
        .collect();
    ReleasedVisit {
        day: day.into(),
        model: None,
        experiment: "model-w49".into(),
        arm: side.name().into(),
        reports: exposed as u64,
        values: VisitValues::from_array([noisy[0], noisy[1], noisy[2], noisy[3]]),
    }
}

/// Run a canary until it is decided: (decision, days it took).
fn canary(lift: f64, seed: u64) -> (RolloutStep, i64) {
    let mut stream = Stream(seed);
    let mut noise = Stream(seed ^ 0x05EE_D0FA_015E);
    let mut release = release(0.05);
    let mut released = visits_only(vec![]);
    let start = Day::parse(T0).unwrap();
    for d in 0..60 {
        let day = Day::of((start.since(Day::of(0.0)) + d) as f64 * 86_400_000.0 + 1.0);
        let text = day.to_string();
        for (side, share, p) in [
            (Side::Current, 1.0 - release.canary_share, BASE_CONVERSION),
            (Side::Candidate, release.canary_share, BASE_CONVERSION * (1.0 + lift)),
        ] {
            let exposed = stream.binomial(DEVICES, share);
            let converted = stream.binomial(exposed, p);
            released.visits.push(row(&text, side, exposed, converted, &mut noise));
        }
        let next_day = Day::of((start.since(Day::of(0.0)) + d + 1) as f64 * 86_400_000.0 + 1.0);
        let verdict = decide(&release, &released, next_day).unwrap();
        if verdict.decision != RolloutStep::Continue {
            return (verdict.decision, d + 1);
        }
        release = verdict.next;
    }
    panic!("undecided after 60 days (maxDays is 28)");
}

fn runs(lift: f64, n: u64) -> (f64, f64, f64) {
    let results: Vec<(RolloutStep, i64)> = (0..n).map(|i| canary(lift, 1000 + i)).collect();
    let share = |d: RolloutStep| results.iter().filter(|r| r.0 == d).count() as f64 / n as f64;
    let mut days: Vec<i64> = results.iter().map(|r| r.1).collect();
    days.sort();
    (share(RolloutStep::Promote), share(RolloutStep::Rollback), days[days.len() / 2] as f64)
}

#[test]
fn an_aa_canary_is_promoted_at_most_at_alpha_however_often_it_is_read() {
    let (promoted, rolled_back, median_days) = runs(0.0, 300);
    eprintln!("A/A, {DEVICES} device-days a day, read daily: promoted {:.1} %, rolled back {:.1} %, median {median_days} days", 100.0 * promoted, 100.0 * rolled_back);
    // α = 0.05; 300 runs put the binomial's 3 sd at 3.8 pt.
    assert!(promoted <= 0.05 + 0.038, "false promotions {promoted}");
}

#[test]
fn a_better_candidate_is_promoted_and_a_worse_one_rolled_back() {
    let (promoted, _, days) = runs(0.25, 200);
    eprintln!("+25 % conversion: promoted {:.0} %, median {days} days", 100.0 * promoted);
    assert!(promoted >= 0.9, "{promoted}");
    let (promoted, rolled_back, days) = runs(-0.25, 200);
    eprintln!("-25 % conversion: rolled back {:.0} %, median {days} days", 100.0 * rolled_back);
    assert!(rolled_back >= 0.95 && promoted == 0.0, "{rolled_back}");
}

fn visits_only(visits: Vec<ReleasedVisit>) -> Released {
    Released { policy: "p".into(), k: 50, cells: vec![], visits, drift: vec![] }
}

/// A day of exact rows (no noise): `exposed` visitors a side, the given conversions and revenue.
fn exact_day(
    day: &str,
    side: Side,
    exposed: f64,
    converted: f64,
    revenue: f64,
    model: Option<String>,
) -> ReleasedVisit {
    let e = |sum| Estimate { sum, variance: 0.0 };
    ReleasedVisit {
        day: day.into(),
        model,
        experiment: "model-w49".into(),
        arm: side.name().into(),
        reports: exposed as u64,
        values: VisitValues::from_array([e(exposed), e(converted), e(converted), e(revenue)]),
    }
}

/// Two days of 50,000 exact visitors a side, each side's (conversions, revenue).
fn two_days(days: [&str; 2], current: (f64, f64), candidate: (f64, f64)) -> Released {
    let side = |d: &str, s: Side, (converted, revenue): (f64, f64)| exact_day(d, s, 50_000.0, converted, revenue, None);
    visits_only(
        days.iter().flat_map(|d| [side(d, Side::Current, current), side(d, Side::Candidate, candidate)]).collect(),
    )
}

#[test]
fn a_breached_guardrail_rolls_back_at_once_and_steps_follow_the_release() {
    let r = release(0.05);
    let today = Day::parse("2026-12-03").unwrap();
    // Same conversion, revenue per visitor down by half on the candidate.
    let agg = two_days(["2026-12-01", "2026-12-02"], (4_000.0, 160_000.0), (4_000.0, 80_000.0));
    let v = decide(&r, &agg, today).unwrap();
    assert_eq!(v.decision, RolloutStep::Rollback, "{}", v.reason);
    assert!(v.reason.contains("guardrail"), "{}", v.reason);
    assert_eq!(v.next.candidate, None);
    assert_eq!(v.next.canary_share, 0.0);
    assert_eq!(v.next.history.last().unwrap().decision, "rollback");

    // No data yet: continue, and the canary steps up after daysPerStep days.
    let empty = visits_only(vec![]);
    let first = decide(&r, &empty, today).unwrap();
    assert_eq!((first.decision, first.next.canary_share), (RolloutStep::Continue, 0.05));
    let later = decide(&first.next, &empty, Day::parse("2026-12-05").unwrap()).unwrap();
    assert_eq!(later.next.canary_share, 0.25);
    let better = two_days(["2026-12-03", "2026-12-04"], (4_000.0, 160_000.0), (5_000.0, 200_000.0));
    let promoted = decide(&later.next, &better, Day::parse("2026-12-05").unwrap()).unwrap();
    assert_eq!(promoted.decision, RolloutStep::Promote, "{}", promoted.reason);
    assert_eq!(promoted.next.current, r.candidate.clone().unwrap());
    assert_eq!((promoted.next.candidate.as_ref(), promoted.next.canary_share), (None, 0.0));
}

#[test]
fn aggregates_of_another_release_and_a_release_without_candidate_are_coded_errors() {
    let r = release(0.05);
    let today = Day::parse("2026-12-03").unwrap();
    let stranger = Some(format!("sha256:{}", "c".repeat(64)));
    let agg = visits_only;
    let mixed = agg(vec![exact_day("2026-12-01", Side::Candidate, 100.0, 5.0, 100.0, stranger.clone())]);
    assert_eq!(decide(&r, &mixed, today).unwrap_err().code(), "RELEASE_MISMATCH");
    let mut other = exact_day("2026-12-01", Side::Current, 100.0, 5.0, 100.0, stranger);
    other.experiment = "model-w48".into();
    assert_eq!(decide(&r, &agg(vec![other]), today).unwrap_err().code(), "RELEASE_MISMATCH");
    let mut odd_arm = exact_day("2026-12-01", Side::Current, 100.0, 5.0, 100.0, None);
    odd_arm.arm = "treatment".into();
    assert_eq!(decide(&r, &agg(vec![odd_arm]), today).unwrap_err().code(), "RELEASE_MISMATCH");
    let mut settled = r.clone();
    (settled.candidate, settled.canary_share) = (None, 0.0);
    assert_eq!(decide(&settled, &agg(vec![]), today).unwrap_err().code(), "INVALID_RELEASE");
}
