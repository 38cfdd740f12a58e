//! `edgerec inspect BUNDLE`: manifest and tensor sizes.

use crate::args::{bad, Args};
use crate::inputs::read_file;
use edgerec::bundle::Bundle;
use edgerec::Result;
use safetensors::SafeTensors;

pub fn run(args: &Args) -> Result<()> {
    let path = args.positional.first().ok_or_else(|| bad("inspect needs a BUNDLE path".into()))?;
    let bytes = read_file(path)?;
    let bundle = Bundle::from_bytes(&bytes)?;
    let m = &bundle.manifest;
    println!("bundle       {path} ({} bytes)", bytes.len());
    println!("format       v{}", m.format_version);
    println!("items        {} (dim {}, sequence length <= {})", m.item_count, m.dim, m.max_seq_len);
    println!("categories   {}", m.categories.len());
    println!("encoder      input {:?} -> output {:?}", m.encoder.input, m.encoder.output);
    println!("model card   {}", serde_json::to_string_pretty(&m.model_card).unwrap_or_default());
    println!("policy       {}", bundle.policy_json);
    println!("tensors:");
    // Deserialising again is cheap and gives the stored dtypes and shapes.
    if let Ok(st) = SafeTensors::deserialize(&bytes) {
        let mut names = st.names();
        names.sort();
        for name in names {
            if let Ok(v) = st.tensor(name) {
                println!(
                    "  {name:<24} {:>4?} {:<14} {:>10} bytes",
                    v.dtype(),
                    format!("{:?}", v.shape()),
                    v.data().len()
                );
            }
        }
    }
    Ok(())
}
