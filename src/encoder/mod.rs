//! The session encoder (docs/design.md §5), run by tract.
//! Load → check the contract → optimise once → run many times.
//!
//! The store exports ONNX; `edgerec build` converts it once into tract's NNEF
//! form ([`convert`], native CLI only), which is what bundles carry and what
//! the shipped module reads: the NNEF reader is a fraction of the ONNX
//! reader's size and loads faster.

#[cfg(feature = "onnx")]
pub mod convert;

// What a bundle carries of its encoder is the bundle format's (one layer down).
pub use crate::bundle::{EncoderBytes, EncoderFormat};

// The `runtime` feature (every build but the Prio3 module's) runs encoders
// with tract; without it no encoder loads, and tract is not linked at all
// (its kernels register themselves at start-up, so linking it is paying for it).
#[cfg(feature = "runtime")]
mod archive;
#[cfg(feature = "runtime")]
mod graph_ops;
#[cfg(feature = "runtime")]
pub mod graph_text;
#[cfg(feature = "runtime")]
mod tract_runtime;
#[cfg(feature = "runtime")]
pub use tract_runtime::Encoder;
#[cfg(not(feature = "runtime"))]
mod absent;
#[cfg(not(feature = "runtime"))]
pub use absent::Encoder;
