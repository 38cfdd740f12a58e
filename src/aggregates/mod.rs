//! The released aggregates and what is read from them: the collector's
//! noisy sums ([`released`], read back on the device as bandit priors), the
//! lift of each experiment arm ([`lift`]), the model's drift ([`drift`]) and
//! a release's promote / roll-back test ([`rollout`]). Each estimate carries
//! the variance of its privacy noise.

pub mod drift;
pub mod lift;
pub mod released;
pub mod rollout;
