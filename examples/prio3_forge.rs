//! A lying device for the aggregators' tests (issue 21): reads a Prio3
//! measurement (what `takeReport` makes under `prio3`) and the two HPKE
//! configs, sets measurement entry ENTRY to VALUE (a count of 5, a revenue
//! bit of 2) and prints the upload, proved as an honest one would be.
//!   cargo run --example prio3_forge -- MEASURED.json LEADER.json HELPER.json ENTRY VALUE

#[path = "../tests/support/forger.rs"]
mod forger;

use edgerec::prio3::seal::{b64, seal, unhex, HpkeConfig};
use edgerec::prio3::task::{Role, NONCE_BYTES};
use edgerec::prio3::upload::{Measured, Upload, UPLOAD_VERSION};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [measured, leader, helper, entry, value] = args.as_slice() else {
        return Err("usage: prio3_forge MEASURED.json LEADER.json HELPER.json ENTRY VALUE".into());
    };
    let measured: Measured = serde_json::from_str(&std::fs::read_to_string(measured)?)?;
    let leader: HpkeConfig = serde_json::from_str(&std::fs::read_to_string(leader)?)?;
    let helper: HpkeConfig = serde_json::from_str(&std::fs::read_to_string(helper)?)?;
    let mut bits: Vec<u128> = measured.measurement.chars().map(|c| u128::from(c == '1')).collect();
    bits[entry.parse::<usize>()?] = value.parse()?;
    let nonce: [u8; NONCE_BYTES] = unhex(&measured.id).ok_or("bad id")?.try_into().map_err(|_| "bad id")?;
    let shards = forger::forge(&measured.task, &bits, &nonce)?;
    let task = measured.task.id();
    let upload = Upload {
        version: UPLOAD_VERSION,
        leader: seal(&leader, Role::Leader, &task, &nonce, &shards.public, &shards.leader)?,
        helper: seal(&helper, Role::Helper, &task, &nonce, &shards.public, &shards.helper)?,
        task,
        id: measured.id,
        day: measured.day,
        model: measured.model,
        public: b64(&shards.public),
    };
    println!("{}", serde_json::to_string(&upload)?);
    Ok(())
}
