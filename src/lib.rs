//! edgerec: an on-device session recommender.
//!
//! Data flows one way (DESIGN §2): events → [`session`] → [`encoder`] →
//! [`retrieve`] ∪ co-purchase → [`rank`] → recommendations with reasons.
//! Everything here is plain Rust; only `wasm.rs` knows about JavaScript.

pub mod api;
pub mod bundle;
pub mod catalog;
pub mod decide;
pub mod encoder;
pub mod engine;
pub mod error;
pub mod mining;
pub mod model;
pub mod page;
pub mod priors;
pub mod query;
pub mod rank;
pub mod report;
pub mod retrieve;
pub mod sampling;
pub mod score;
pub mod session;
pub mod sets;
pub mod shopper;
pub mod store;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod wasm;

pub use engine::Engine;
pub use error::{Error, Result};
pub use model::Model;
pub use page::{Page, PageRequest};
pub use rank::{RecommendOptions, Recommendations};
pub use store::{Store, Tracked};
