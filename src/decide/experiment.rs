//! Experiments on the device: deterministic arm assignment by hashing, and
//! Thompson sampling over offers with Beta priors.

use super::compile::Experiment;
use crate::sampling::{gamma, Uniform};

/// FNV-1a over the bytes, then a SplitMix64 finaliser so that keys differing
/// in one character land far apart. Stable across platforms and releases:
/// changing it would re-draw every shopper.
pub fn hash64(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ 0x1f).wrapping_mul(0x0100_0000_01b3); // unit separator
        }
        for &b in p.as_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    splitmix64(h)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [0, 1) from the top 53 bits.
pub fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The arm of `shopper_key` in `exp`: hash(salt, key) is a point in [0, 1),
/// the arms split [0, 1) by weight in the order the policy lists them.
pub fn assign(exp: &Experiment, shopper_key: &str) -> usize {
    let total: f64 = exp.arms.iter().map(|a| a.weight).sum();
    let point = unit(hash64(&[&exp.salt, shopper_key])) * total;
    let mut edge = 0.0;
    for (i, arm) in exp.arms.iter().enumerate() {
        edge += arm.weight;
        if point < edge {
            return i;
        }
    }
    exp.arms.len() - 1
}

/// A counter-based random stream: draw n is splitmix64(seed + n·γ), so the
/// state is one count that survives JSON (and JavaScript numbers) exactly.
#[derive(Debug)]
pub struct Draws<'a> {
    seed: u64,
    count: &'a mut u64,
}

impl<'a> Draws<'a> {
    pub fn new(shopper_key: &str, count: &'a mut u64) -> Draws<'a> {
        Draws { seed: hash64(&["edgerec-draws", shopper_key]), count }
    }

    /// Beta(alpha, beta) as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta).
    pub fn beta(&mut self, alpha: f64, beta: f64) -> f64 {
        let Ok(x) = gamma(self, alpha);
        let Ok(y) = gamma(self, beta);
        x / (x + y)
    }
}

impl Uniform for Draws<'_> {
    type Error = std::convert::Infallible;

    /// Uniform in (0, 1): never 0, so logarithms stay finite.
    fn uniform(&mut self) -> Result<f64, Self::Error> {
        let x = splitmix64(self.seed.wrapping_add(self.count.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        *self.count += 1;
        Ok(((x >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::compile::{Arm, Experiment};

    fn experiment(weights: &[f64]) -> Experiment {
        let arms = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Arm { id: format!("a{i}"), weight: w, holdout: false, offers: None, bandit: None })
            .collect();
        Experiment { id: "e".into(), salt: "s1".into(), arms }
    }

    #[test]
    fn assignment_is_deterministic_and_follows_weights() {
        let exp = experiment(&[70.0, 20.0, 10.0]);
        let mut counts = [0usize; 3];
        for i in 0..100_000 {
            let key = format!("shopper-{i}");
            let arm = assign(&exp, &key);
            assert_eq!(arm, assign(&exp, &key));
            counts[arm] += 1;
        }
        for (c, w) in counts.iter().zip([0.7, 0.2, 0.1]) {
            let share = *c as f64 / 100_000.0;
            assert!((share - w).abs() < 0.005, "share {share} for weight {w}");
        }
    }

    #[test]
    fn a_new_salt_redraws_shoppers() {
        let a = experiment(&[1.0, 1.0]);
        let mut b = experiment(&[1.0, 1.0]);
        b.salt = "s2".into();
        let moved = (0..10_000).filter(|i| assign(&a, &i.to_string()) != assign(&b, &i.to_string())).count();
        assert!((4_000..6_000).contains(&moved), "{moved} of 10000 moved");
    }

    #[test]
    fn beta_draws_have_the_right_mean_and_spread() {
        let mut n = 0;
        let mut draws = Draws::new("k", &mut n);
        for (a, b) in [(2.0, 8.0), (0.5, 0.5), (30.0, 70.0)] {
            let xs: Vec<f64> = (0..20_000).map(|_| draws.beta(a, b)).collect();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
            let (m, v) = (a / (a + b), a * b / ((a + b).powi(2) * (a + b + 1.0)));
            assert!((mean - m).abs() < 0.01, "Beta({a},{b}) mean {mean} vs {m}");
            assert!((var - v).abs() < 0.1 * v + 1e-4, "Beta({a},{b}) variance {var} vs {v}");
            assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        }
    }
}
