//! Offer decisioning (docs/design.md §6–7): for one slot, the store's policy picks
//! one offer, or its fallback, or none. The order is fixed: experiment arm
//! (a holdout gets nothing) → slot caps → per offer: eligibility, caps,
//! score → arbitration (priority then score, or Thompson sampling in a
//! bandit arm) → fallback. Every decision carries its trace.
//!
//! The policy as written (`spec`, its predicates in `predicate`, both in the
//! `terms` of ranges, context fields and limits), compiled
//! against the catalog (`compile` → `compiled`), decided (`decider`, reading
//! `facts`, `candidates`, `value`, `gap`, `experiment`), answered
//! (`decision`) and followed up (`outcome`, `state`); `cart` prices a cart
//! under the policy's set discounts.

pub mod candidates;
pub mod cart;
pub mod compile;
pub mod compiled;
pub mod context;
pub mod decider;
pub mod decision;
pub mod experiment;
pub mod facts;
pub mod gap;
pub mod outcome;
pub mod predicate;
pub mod spec;
pub mod state;
pub mod terms;
pub mod value;

pub use compiled::Policy;
pub use decider::Decider;
pub use decision::{
    Assignment, BundlePrice, ChosenOffer, Decision, Feedback, OfferRequest, OfferTrace, RuleCheck, Showing, ShownOffer,
    Verdict, Worth,
};
pub use outcome::{attribute_purchase, offers_showing, record_feedback, record_shown};
