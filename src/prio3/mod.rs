//! Reports no single server can read (Prio3, draft-irtf-cfrg-vdaf, run as
//! DAP's upload, aggregation and collection): the task and its circuit
//! ([`task`]), input shares sealed to one aggregator ([`seal`]), a report on
//! its way from the device ([`upload`]), and one aggregator's steps as its
//! Worker drives them ([`service`]).

pub mod seal;
pub mod service;
pub mod task;
pub mod upload;
