//! Samplers shared by the bandit's replayable stream and the privacy noise's
//! secure one: each takes any source of uniforms in (0, 1), so the two
//! streams never mix but the maths exists once.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::experiment::Draws;

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
}
