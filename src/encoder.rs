//! The session encoder (DESIGN §5): an ONNX graph run by tract.
//! Load → check the contract → optimise once → run many times.

use crate::bundle::EncoderSpec;
use crate::error::{Error, Result};
use std::sync::Arc;
use tract_onnx::prelude::*;

pub struct Encoder {
    plan: Arc<TypedSimplePlan>,
    dim: usize,
    max_seq_len: usize,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Encoder(dim={}, max_seq_len={})", self.dim, self.max_seq_len)
    }
}

fn contract(msg: impl std::fmt::Display) -> Error {
    Error::ModelContract(msg.to_string())
}

impl Encoder {
    /// Parse, check and optimise the encoder. The input length stays symbolic
    /// (1..=max_seq_len) so one optimised plan serves every session length.
    pub fn load(onnx: &[u8], spec: &EncoderSpec, dim: usize, max_seq_len: usize) -> Result<Encoder> {
        let mut model = tract_onnx::onnx()
            .model_for_read(&mut &onnx[..])
            .map_err(|e| contract(format!("not a loadable ONNX model: {e}")))?;
        check_io_names(&model, spec)?;
        let len = model.symbols.sym("L");
        let shape: TVec<TDim> = tvec![1.to_dim(), len.to_dim(), dim.to_dim()];
        model.set_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), shape)).map_err(contract)?;
        let typed = model
            .into_optimized()
            .map_err(|e| contract(format!("cannot type the graph for input [1, L, {dim}]: {e:#}")))?;
        let out = typed.output_fact(0).map_err(contract)?;
        let out_shape = out.shape.to_tvec();
        if out.datum_type != f32::datum_type() || out_shape != tvec![1.to_dim(), dim.to_dim()] {
            return Err(contract(format!(
                "output must be float32 [1, {dim}], found {:?} {:?}",
                out.datum_type, out_shape
            )));
        }
        let plan = typed.into_runnable().map_err(contract)?;
        let encoder = Encoder { plan, dim, max_seq_len };
        // A smoke run catches graphs that type-check but cannot execute.
        encoder.encode(&vec![0.0; dim]).map_err(|e| contract(format!("smoke run failed: {e}")))?;
        Ok(encoder)
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn max_seq_len(&self) -> usize {
        self.max_seq_len
    }

    /// Encode `seq` (row-major `[L, dim]`, oldest first) into a session vector.
    /// Each call runs with a fresh state: reusing a state leaks recurrent
    /// hidden state between sessions (notes/RUNTIMES.md).
    pub fn encode(&self, seq: &[f32]) -> Result<Vec<f32>> {
        let len = seq.len() / self.dim;
        if len == 0 || len > self.max_seq_len || seq.len() != len * self.dim {
            return Err(Error::ModelRun(format!(
                "sequence of {} floats is not [L, {}] with 1 <= L <= {}",
                seq.len(),
                self.dim,
                self.max_seq_len
            )));
        }
        let input = Tensor::from_shape(&[1, len, self.dim], seq).map_err(run_err)?;
        let outputs = self.plan.run(tvec!(input.into())).map_err(run_err)?;
        let out = outputs[0].to_plain_array_view::<f32>().map_err(run_err)?;
        let v: Vec<f32> = out.iter().copied().collect();
        if v.len() != self.dim || v.iter().any(|x| !x.is_finite()) {
            return Err(Error::ModelRun("encoder produced a non-finite or misshaped vector".into()));
        }
        Ok(v)
    }
}

fn run_err(e: impl std::fmt::Display) -> Error {
    Error::ModelRun(e.to_string())
}

fn check_io_names(model: &InferenceModel, spec: &EncoderSpec) -> Result<()> {
    // An input is a node of its own; an output is a labelled outlet.
    let label =
        |o: &OutletId| model.outlet_label(*o).map(str::to_string).unwrap_or_else(|| model.node(o.node).name.clone());
    let inputs: Vec<String> = model.input_outlets().map_err(contract)?.iter().map(label).collect();
    let outputs: Vec<String> = model.output_outlets().map_err(contract)?.iter().map(label).collect();
    if inputs != [spec.input.clone()] {
        return Err(contract(format!("expected one input {:?}, found {inputs:?}", spec.input)));
    }
    if outputs.first() != Some(&spec.output) {
        return Err(contract(format!("expected output {:?} first, found {outputs:?}", spec.output)));
    }
    Ok(())
}
