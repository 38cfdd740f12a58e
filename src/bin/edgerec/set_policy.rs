//! `edgerec set-policy BUNDLE --policy FILE.json [--out BUNDLE]`: check a
//! store's offer policy against the bundle's catalog and make it the
//! bundle's default (the model, table and statistics are kept as they are).

use crate::args::{bad, Args};
use crate::inputs::{read_file, read_text, write_file};
use edgerec::bundle::Bundle;
use edgerec::{Engine, Result};

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("set-policy needs a BUNDLE path".into()))?;
    let policy_path = args.required("policy")?;
    let mut bundle = Bundle::from_bytes(&read_file(path)?)?;
    bundle.policy_json = read_text(policy_path)?;
    let bytes = bundle.to_bytes()?;
    // The engine compiles the policy on load: refuse what it would refuse.
    let engine = Engine::load(&bytes)?;
    let policy = engine.policy();
    let out = args.opt("out").unwrap_or(path);
    write_file(out, &bytes)?;
    println!(
        "policy {:?}: {} offers, {} slots, {} experiments -> {out}",
        policy.id,
        policy.offers.len(),
        policy.slots.len(),
        policy.experiments.len()
    );
    Ok(())
}
