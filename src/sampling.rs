//! Samplers shared by the bandit's replayable stream ([`Draws`]) and the
//! privacy noise's secure one: each takes any source of uniforms in (0, 1), so the two
//! streams never mix but the maths exists once.

use crate::hashing::{hash64, splitmix64};

/// A source of uniform numbers in (0, 1), never exactly 0 or 1.
pub trait Uniform {
    type Error;
    fn uniform(&mut self) -> Result<f64, Self::Error>;
}

/// Standard normal by Box–Muller.
pub fn normal<R: Uniform>(rng: &mut R) -> Result<f64, R::Error> {
    let (u1, u2) = (rng.uniform()?, rng.uniform()?);
    Ok((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos())
}

/// Gamma(shape, 1) by Marsaglia and Tsang (2000); a shape below 1 is
/// boosted: Gamma(a) = Gamma(a + 1)·U^(1/a).
pub fn gamma<R: Uniform>(rng: &mut R, shape: f64) -> Result<f64, R::Error> {
    if shape < 1.0 {
        let u = rng.uniform()?;
        return Ok(gamma(rng, shape + 1.0)? * u.powf(1.0 / shape));
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng)?;
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.uniform()?;
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return Ok(d * v);
        }
    }
}

/// Means above this are clamped (unreachable with the noise shapes used
/// here: it would take a Gamma draw thousands of deviations out).
const MAX_POISSON_MEAN: f64 = 1e7;
/// Inversion runs in chunks of this mean at most, so e^(−λ) stays normal.
const POISSON_CHUNK: f64 = 16.0;

/// Poisson(λ) by inversion, in chunks (a sum of Poissons is Poisson).
pub fn poisson<R: Uniform>(rng: &mut R, lambda: f64) -> Result<u64, R::Error> {
    let mut left = if lambda.is_finite() { lambda.clamp(0.0, MAX_POISSON_MEAN) } else { 0.0 };
    let mut total = 0;
    while left > 0.0 {
        let mean = left.min(POISSON_CHUNK);
        left -= mean;
        let u = rng.uniform()?;
        let (mut k, mut p) = (0u64, (-mean).exp());
        let mut cdf = p;
        // The tail past 200 has probability below 1e-150 at mean 16.
        while u > cdf && k < 200 {
            k += 1;
            p *= mean / k as f64;
            cdf += p;
        }
        total += k;
    }
    Ok(total)
}

/// Geometric on {0, 1, …} with P(g) = (1 − q)·q^g, by inversion.
pub fn geometric<R: Uniform>(rng: &mut R, q: f64) -> Result<u64, R::Error> {
    Ok((rng.uniform()?.ln() / q.ln()).floor().min(1e12) as u64)
}

/// Pólya(r, q): negative binomial with P(g) ∝ Γ(g + r)/g!·q^g, drawn as a
/// Poisson with a Gamma(r, q/(1 − q)) mean. The sum of m independent
/// Pólya(1/m, q) is Geometric(q): the geometric is infinitely divisible.
pub fn polya<R: Uniform>(rng: &mut R, r: f64, q: f64) -> Result<u64, R::Error> {
    let mean = gamma(rng, r)? * q / (1.0 - q);
    poisson(rng, mean)
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

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        (mean, xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64)
    }

    #[test]
    fn poisson_has_its_mean_as_mean_and_variance() {
        let mut n = 0;
        let mut s = Draws::new("poisson", &mut n);
        for lambda in [0.0, 0.3, 5.0, 40.0, 900.0] {
            let xs: Vec<f64> = (0..40_000).map(|_| poisson(&mut s, lambda).unwrap_or(0) as f64).collect();
            let (m, v) = mean_var(&xs);
            let tol = 4.0 * (lambda / 40_000.0).sqrt() + 1e-9;
            assert!((m - lambda).abs() <= tol, "λ {lambda}: mean {m}");
            assert!((v - lambda).abs() <= 0.05 * lambda + 1e-9, "λ {lambda}: variance {v}");
        }
    }

    #[test]
    fn polya_shares_add_up_to_a_geometric() {
        // m shares of Pólya(1/m, q) summed: P(0) = 1 − q, mean q/(1 − q).
        let (q, m, trials) = (0.8f64, 50, 20_000);
        let mut n = 0;
        let mut s = Draws::new("polya", &mut n);
        let sums: Vec<f64> =
            (0..trials).map(|_| (0..m).map(|_| polya(&mut s, 1.0 / m as f64, q).unwrap_or(0) as f64).sum()).collect();
        let (mean, var) = mean_var(&sums);
        let zeros = sums.iter().filter(|&&x| x == 0.0).count() as f64 / trials as f64;
        assert!((mean - q / (1.0 - q)).abs() < 0.15, "mean {mean}");
        assert!((var / (q / (1.0 - q).powi(2)) - 1.0).abs() < 0.06, "variance {var}");
        assert!((zeros - (1.0 - q)).abs() < 0.01, "P(0) {zeros}");
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
