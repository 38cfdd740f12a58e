//! edgerec: an on-device session recommender.
//!
//! Data flows one way (docs/design.md §2): events → [`session`] → one
//! [`query::SessionQuery`] (encoder, retrieval, co-purchase anchors) →
//! [`rank`], [`page`] and [`decide`] → shown, feedback → [`report`] (on the
//! device, with consent: [`privacy`]) → [`aggregates`] read back.
//! A [`Store`] is what every shopper shares; an [`Engine`] pairs it with one
//! shopper.
//!
//! The map of the house, bottom up (each layer imports only from itself and
//! the layers below: docs/architecture.md, checked by `tests/layers.rs`):
//!
//! | layer | modules |
//! |---|---|
//! | ground | `error`, `json_path`, `hashing`, `int8`, [`day`], `sampling`, `score` |
//! | the bundle format | [`bundle`], `catalog` |
//! | the model | [`mining`], [`encoder`], `retrieve`, `model` |
//! | the shopper's session | [`session`], `priors` |
//! | recommendations | [`query`], [`rank`], `sets`, [`page`] |
//! | offers | [`decide`] |
//! | releases and reports | [`release`], [`report`] |
//! | what the collector releases | [`aggregates`], [`prio3`] |
//! | the engine | `shopper`, [`privacy`], `store`, `engine` |
//! | the faces | [`api`] (HTTP), `wasm` (the engine's JavaScript bindings), `wasm_prio3` (the Prio3 module's), `interop` (what both share) |
//!
//! Everything below the faces is plain Rust: only `wasm.rs`,
//! `wasm_prio3.rs` and `interop.rs` know about JavaScript.

pub mod aggregates;
pub mod api;
pub mod bundle;
mod catalog;
pub mod content;
pub mod day;
pub mod decide;
pub mod encoder;
mod engine;
mod error;
pub mod filter;
mod hashing;
mod int8;
mod json_path;
pub mod live;
pub mod mining;
mod model;
pub mod page;
pub mod prio3;
mod priors;
pub mod privacy;
pub mod query;
pub mod rank;
pub mod release;
pub mod report;
mod retrieve;
mod sampling;
mod score;
pub mod session;
mod sets;
mod shopper;
mod store;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod interop;
#[cfg(all(target_arch = "wasm32", target_os = "unknown", not(feature = "prio3-module")))]
mod wasm;
#[cfg(all(target_arch = "wasm32", target_os = "unknown", feature = "prio3-module"))]
mod wasm_prio3;

// What hosts name: the engine and the store, their requests and answers.
// The modules above that stay `pub` are for the CLI, the edge apps, the
// tests and the fuzzers (the bundle format, decisioning, reports).
pub use engine::Engine;
pub use error::{Error, Result};
pub use filter::{ItemFilter, Promotion};
pub use live::{ItemUpdate, ItemsUpdated};
pub use model::{ItemExtras, ItemView, Model, OfferedItem};
pub use page::{Page, PageRequest};
pub use priors::{Boosts, Priors, Trials};
pub use rank::{RecommendOptions, Recommendations};
pub use score::{BlendWeights, ScoreParts, Weights};
pub use shopper::ShopperData;
pub use store::{Store, Tracked};
