//! A client that lies (issue 21): it proves a measurement the honest
//! client would refuse to encode (a count of 5, a revenue bit of 2). Shared by
//! tests/prio3.rs and examples/prio3_forge.rs (the workerd aggregators' test).

use edgerec::prio3::task::{Shards, Task, NONCE_BYTES};
use prio::codec::Encode;
use prio::field::Field128;
use prio::flp::gadgets::{Mul, ParallelSum};
use prio::flp::types::SumVec;
use prio::flp::{Flp, FlpError, Gadget, Type};
use prio::vdaf::prio3::{optimal_chunk_length, Prio3};
use prio::vdaf::xof::XofTurboShake128;
use prio::vdaf::{Client, VdafError};

/// A client that lies: it encodes its measurement without the range check
/// and proves it as an honest one would (a forged report, not a corrupted
/// one: the shares and the proof belong together).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forger(SumVec<Field128, ParallelSum<Field128, Mul>>);

impl Flp for Forger {
    type Field = Field128;
    fn gadget(&self) -> Vec<Box<dyn Gadget<Field128>>> {
        self.0.gadget()
    }
    fn num_gadgets(&self) -> usize {
        self.0.num_gadgets()
    }
    fn valid(
        &self,
        g: &mut Vec<Box<dyn Gadget<Field128>>>,
        input: &[Field128],
        joint: &[Field128],
        shares: usize,
    ) -> Result<Vec<Field128>, FlpError> {
        self.0.valid(g, input, joint, shares)
    }
    fn input_len(&self) -> usize {
        self.0.input_len()
    }
    fn proof_len(&self) -> usize {
        self.0.proof_len()
    }
    fn verifier_len(&self) -> usize {
        self.0.verifier_len()
    }
    fn joint_rand_len(&self) -> usize {
        self.0.joint_rand_len()
    }
    fn eval_output_len(&self) -> usize {
        self.0.eval_output_len()
    }
    fn prove_rand_len(&self) -> usize {
        self.0.prove_rand_len()
    }
}

impl Type for Forger {
    type Measurement = Vec<u128>;
    type AggregateResult = Vec<u128>;
    fn encode_measurement(&self, m: &Vec<u128>) -> Result<Vec<Field128>, FlpError> {
        Ok(m.iter().map(|&x| Field128::from(x)).collect())
    }
    fn truncate(&self, input: Vec<Field128>) -> Result<Vec<Field128>, FlpError> {
        self.0.truncate(input)
    }
    fn decode_result(&self, data: &[Field128], n: usize) -> Result<Vec<u128>, FlpError> {
        self.0.decode_result(data, n)
    }
    fn output_len(&self) -> usize {
        self.0.output_len()
    }
}

pub fn forge(task: &Task, measurement: &[u128], nonce: &[u8; NONCE_BYTES]) -> Result<Shards, VdafError> {
    let len = task.length();
    let vdaf: Prio3<Forger, XofTurboShake128, 32> =
        Prio3::new(2, 1, 0x0000_0003, Forger(SumVec::new(1, len, optimal_chunk_length(len))?))?;
    let (public, inputs) = vdaf.shard(b"edgerec report v1", &measurement.to_vec(), nonce)?;
    let bytes = |x: &dyn Encode| x.get_encoded().unwrap();
    Ok(Shards { public: bytes(&public), leader: bytes(&inputs[0]), helper: bytes(&inputs[1]) })
}
