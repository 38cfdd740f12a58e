//! `edgerec prio3 keygen --id N` and `edgerec prio3 task BUNDLE [--policy
//! FILE.json] [--epsilon E] [--release-experiment NAME]`: what a store gives
//! its two aggregators (issue 21). A keypair is printed as the JSON an
//! aggregator's HPKE_KEYS list holds; the task is the one every device
//! derives from the same policy, its id on stderr.

use crate::args::{bad, Args};
use crate::inputs::{read_file, read_text};
use edgerec::prio3::seal::HpkeKeypair;
use edgerec::prio3::task::Task;
use edgerec::report::noise::SecureRandom;
use edgerec::{Engine, Result};

pub fn run(args: &Args) -> Result<()> {
    match args.positional.first().map(String::as_str) {
        Some("keygen") => {
            let id: u8 = args.parsed("id", 1)?;
            let pair = HpkeKeypair::generate(id, &mut SecureRandom::new())?;
            println!("{}", serde_json::to_string(&pair).map_err(|e| bad(e.to_string()))?);
            Ok(())
        }
        Some("task") => {
            let bundle = args.positional.get(1).ok_or_else(|| bad("prio3 task needs a BUNDLE path".into()))?;
            let mut engine = Engine::load(&read_file(bundle)?)?;
            if let Some(policy) = args.opt("policy") {
                engine.use_policy(&read_text(policy)?)?;
            }
            let task = Task::of_policy(engine.policy(), args.opt("release-experiment"), args.parsed("epsilon", 1.0)?)?;
            println!("{}", serde_json::to_string(&task).map_err(|e| bad(e.to_string()))?);
            eprintln!("task {} ({} measurement entries)", task.id(), task.length());
            Ok(())
        }
        _ => {
            Err(bad("usage: edgerec prio3 keygen --id N | edgerec prio3 task BUNDLE [--policy F] [--epsilon E]".into()))
        }
    }
}
