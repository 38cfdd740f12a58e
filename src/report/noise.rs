//! Randomness for privacy noise: the platform's cryptographic generator
//! (`getrandom`: the OS natively, `crypto.getRandomValues` in browsers and
//! workerd, WASI's `random_get` at Fastly). Never the decisioning stream:
//! that one is keyed by the shopper and replayable, so noise drawn from it
//! could be subtracted again.

use crate::error::{Error, Result};
use crate::sampling::{geometric, polya, Uniform};

/// A buffer of secure random words, refilled from the platform as used.
pub struct SecureRandom {
    words: Vec<u64>,
}

const BATCH: usize = 256;

impl SecureRandom {
    pub fn new() -> SecureRandom {
        SecureRandom { words: Vec::new() }
    }

    pub fn next_u64(&mut self) -> Result<u64> {
        if self.words.is_empty() {
            let mut bytes = [0u8; BATCH * 8];
            getrandom::fill(&mut bytes)
                .map_err(|e| Error::InvalidOptions(format!("no secure random source on this platform: {e}")))?;
            self.words = bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default())).collect();
        }
        Ok(self.words.pop().unwrap_or_default())
    }

    /// 128 random bits as 32 lowercase hex digits.
    pub fn hex_id(&mut self) -> Result<String> {
        Ok(format!("{:016x}{:016x}", self.next_u64()?, self.next_u64()?))
    }

    /// Discrete Laplace with P(x) ∝ q^|x| (q = e^(−ε/Δ)): the difference of
    /// two geometrics (Inusah and Kozubowski 2006).
    pub fn discrete_laplace(&mut self, q: f64) -> Result<i64> {
        Ok(geometric(self, q)? as i64 - geometric(self, q)? as i64)
    }

    /// One of `cohort` shares of a discrete Laplace: Pólya(1/cohort, q) minus
    /// another. Any `cohort` of them sum to exactly a discrete Laplace(q), so
    /// a sum of at least `cohort` reports carries at least that noise.
    pub fn discrete_laplace_share(&mut self, q: f64, cohort: u32) -> Result<i64> {
        let r = 1.0 / f64::from(cohort.max(1));
        Ok(polya(self, r, q)? as i64 - polya(self, r, q)? as i64)
    }
}

impl Uniform for SecureRandom {
    type Error = Error;

    /// Uniform in (0, 1), never 0 or 1, from the top 53 bits.
    fn uniform(&mut self) -> Result<f64> {
        Ok(((self.next_u64()? >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64))
    }
}

impl Default for SecureRandom {
    fn default() -> Self {
        SecureRandom::new()
    }
}

/// Variance of the discrete Laplace with parameter q: 2q / (1 − q)².
pub fn discrete_laplace_variance(q: f64) -> f64 {
    2.0 * q / ((1.0 - q) * (1.0 - q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discrete_laplace_has_the_documented_mean_and_variance() {
        let mut rng = SecureRandom::new();
        let q = (-0.25f64).exp();
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.discrete_laplace(q).unwrap() as f64).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let want = discrete_laplace_variance(q);
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert!((var / want - 1.0).abs() < 0.03, "variance {var} vs {want}");
        // P(0) = (1 − q) / (1 + q).
        let zeros = xs.iter().filter(|&&x| x == 0.0).count() as f64 / n as f64;
        assert!((zeros - (1.0 - q) / (1.0 + q)).abs() < 0.005, "P(0) {zeros}");
    }

    #[test]
    fn cohort_shares_sum_to_one_discrete_laplace() {
        let mut rng = SecureRandom::new();
        let (q, cohort, sums) = ((-0.25f64).exp(), 40, 20_000);
        let xs: Vec<f64> = (0..sums)
            .map(|_| (0..cohort).map(|_| rng.discrete_laplace_share(q, cohort).unwrap() as f64).sum())
            .collect();
        let mean = xs.iter().sum::<f64>() / sums as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / sums as f64;
        let zeros = xs.iter().filter(|&&x| x == 0.0).count() as f64 / sums as f64;
        assert!(mean.abs() < 0.25, "mean {mean}");
        assert!((var / discrete_laplace_variance(q) - 1.0).abs() < 0.06, "variance {var}");
        assert!((zeros - (1.0 - q) / (1.0 + q)).abs() < 0.01, "P(0) {zeros}");
    }

    #[test]
    fn ids_do_not_repeat() {
        let mut rng = SecureRandom::new();
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| rng.hex_id().unwrap()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 32));
    }
}
