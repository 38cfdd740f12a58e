//! Builds without the `runtime` feature (the Prio3 module): no encoder loads.

use super::EncoderBytes;
use crate::bundle::EncoderSpec;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Encoder {
    dim: usize,
    max_seq_len: usize,
}

impl Encoder {
    pub fn load(_: &EncoderBytes, _: &EncoderSpec, _: usize, _: usize) -> Result<Encoder> {
        Err(Error::contract("this build has no model runtime (built without the `runtime` feature)"))
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn max_seq_len(&self) -> usize {
        self.max_seq_len
    }

    pub fn encode(&self, _: &[f32]) -> Result<Vec<f32>> {
        Err(Error::contract("this build has no model runtime"))
    }
}
