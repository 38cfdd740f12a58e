//! `edgerec parity ONNX FIXTURE`: does tract, running the NNEF form `build`
//! would ship, give PyTorch's session vectors?
//! The fixture (written by training/export.py) holds `inputs` [C, Lmax, d],
//! `lengths` [C] (i64) and `outputs` [C, d] computed by PyTorch.

use crate::args::{bad, Args};
use crate::inputs::read_file;
use edgerec::bundle::{f32s_from_le, i64s_from_le, EncoderSpec};
use edgerec::encoder::convert::onnx_to_nnef;
use edgerec::encoder::Encoder;
use edgerec::{Error, Result};
use safetensors::{Dtype, SafeTensors};

fn floats(st: &SafeTensors, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let v = st.tensor(name).map_err(|e| Error::InvalidInput(format!("{name}: {e}")))?;
    if v.dtype() != Dtype::F32 {
        return Err(Error::InvalidInput(format!("{name} must be F32")));
    }
    let data = f32s_from_le(v.data());
    Ok((v.shape().to_vec(), data))
}

pub fn run(args: &Args) -> Result<()> {
    let [onnx_path, fixture_path] = args.positional.as_slice() else {
        return Err(bad("parity needs ONNX and FIXTURE paths".into()));
    };
    let tolerance: f32 = args.parsed("tolerance", 1e-4)?;
    let fixture = read_file(fixture_path)?;
    let st = SafeTensors::deserialize(&fixture).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let (in_shape, inputs) = floats(&st, "inputs")?;
    let (_, outputs) = floats(&st, "outputs")?;
    let lengths_view = st.tensor("lengths").map_err(|e| Error::InvalidInput(format!("lengths: {e}")))?;
    let lengths: Vec<usize> = i64s_from_le(lengths_view.data()).into_iter().map(|l| l.max(0) as usize).collect();
    let [cases, lmax, dim] = in_shape[..] else {
        return Err(Error::InvalidInput("inputs must be [C, Lmax, d]".into()));
    };
    // What ships: the NNEF form `build` stores, converted here the same way.
    let nnef = onnx_to_nnef(&read_file(onnx_path)?, &EncoderSpec::default(), dim)?;
    let encoder = Encoder::load(&nnef, &EncoderSpec::default(), dim, lmax)?;
    let mut worst = 0f32;
    for c in 0..cases {
        let len = lengths.get(c).copied().unwrap_or(0).clamp(1, lmax);
        let start = c * lmax * dim;
        let got = encoder.encode(&inputs[start..start + len * dim])?;
        let want = &outputs[c * dim..(c + 1) * dim];
        worst = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(worst, f32::max);
    }
    println!("parity: {cases} sessions, max |tract - pytorch| = {worst:.3e} (tolerance {tolerance:.0e})");
    if worst > tolerance {
        return Err(Error::ModelRun(format!("parity failed: {worst:.3e} > {tolerance:.0e}")));
    }
    Ok(())
}
