//! Experiments on the device: deterministic arm assignment by hashing.

use super::compiled::Experiment;
use crate::hashing::{hash64, unit};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::compiled::{Arm, Experiment};

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
}
