//! The session encoder run by tract (the `runtime` feature).

#[cfg(feature = "onnx")]
use super::convert;
use super::{archive, graph_ops, graph_text, EncoderBytes, EncoderFormat};
use crate::bundle::EncoderSpec;
use crate::error::{Error, Result};
use std::sync::Arc;
use tract_nnef::framework::Nnef;
use tract_nnef::internal::ResourceLoader;
use tract_nnef::prelude::*;
use tract_nnef::resource::{DatLoader, GraphNnefLoader};

/// Largest session-vector component accepted (the item table's own bound:
/// a score is then at most 1e8 × dim, far from overflowing).
pub const MAX_ABS_OUTPUT: f32 = crate::bundle::read::MAX_ABS_EMBEDDING;

#[derive(Clone)]
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

impl Encoder {
    /// Read, check and optimise the encoder. The input length stays symbolic
    /// (1..=max_seq_len) so one optimised plan serves every session length.
    pub fn load(encoder: &EncoderBytes, spec: &EncoderSpec, dim: usize, max_seq_len: usize) -> Result<Encoder> {
        let typed = match encoder.format {
            EncoderFormat::Nnef => read_nnef(&encoder.bytes, spec)?,
            #[cfg(feature = "onnx")]
            EncoderFormat::Onnx => convert::typed_from_onnx(&encoder.bytes, spec, dim)?,
            #[cfg(not(feature = "onnx"))]
            EncoderFormat::Onnx => {
                return Err(Error::contract(
                    "this build reads NNEF encoders only; convert the bundle once with `edgerec repack`",
                ))
            }
        };
        check_contract(&typed, spec, dim)?;
        let optimized =
            typed.into_optimized().map_err(|e| Error::contract(format!("cannot optimise the graph: {e:#}")))?;
        let plan = optimized.into_runnable().map_err(Error::contract)?;
        let encoder = Encoder { plan, dim, max_seq_len };
        // A smoke run catches graphs that type-check but cannot execute.
        encoder.encode(&vec![0.0; dim]).map_err(|e| Error::contract(format!("smoke run failed: {e}")))?;
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
        // Within the item table's bound, so that no score it makes overflows.
        if let Some(x) = v.iter().find(|x| x.abs() > MAX_ABS_OUTPUT) {
            return Err(Error::ModelRun(format!("encoder output {x} is outside ±{MAX_ABS_OUTPUT}")));
        }
        Ok(v)
    }
}

fn run_err(e: impl std::fmt::Display) -> Error {
    Error::ModelRun(e.to_string())
}

/// tract's NNEF reader, built once per instance. Not `tract_nnef::nnef()`:
/// that also parses NNEF's standard library into `Nnef::stdlib`, which only
/// writing a model uses (measured natively: 10.5 ms of the reader's 21 ms,
/// itself most of loading an encoder). It reads the graph and its tensors
/// only: quantisation files and sub-models are not part of the contract.
fn nnef_reader() -> Nnef {
    Nnef {
        stdlib: Vec::new(),
        registries: vec![tract_nnef::ops::tract_nnef(), tract_nnef::ops::tract_core()],
        resource_loaders: vec![GraphNnefLoader.into_boxed(), DatLoader.into_boxed()],
        allow_extended_identifier_syntax: false,
        extern_all_constants: false,
    }
}

thread_local! {
    static NNEF: Nnef = nnef_reader();
}

/// The NNEF tar as a typed (not yet optimised) graph. What tract trusts is
/// checked first: the tar's entries and tensor headers, the text's bounds,
/// then the parsed graph's operators and attributes (issue 36).
fn read_nnef(tar: &[u8], spec: &EncoderSpec) -> Result<TypedModel> {
    graph_text::check(&archive::graph_text(tar)?)?;
    let unloadable = |e: TractError| Error::contract(format!("not a loadable NNEF encoder: {e:#}"));
    NNEF.with(|nnef| {
        let proto = nnef.proto_model_for_read(&mut &tar[..]).map_err(unloadable)?;
        let parameters = |op: &str| {
            let id = tract_nnef::ast::Identifier::from(op);
            let primitive = nnef.registries.iter().find_map(|r| r.primitives.get(&id))?;
            Some(primitive.decl.parameters.iter().map(|p| p.id.0.clone()).collect())
        };
        graph_ops::check(&proto.doc, spec, &parameters)?;
        nnef.model_for_proto_model(&proto).map_err(unloadable)
    })
}

/// One input `spec.input` of float32 `[1, L, dim]`, first output `spec.output`
/// of float32 `[1, dim]`.
fn check_contract(model: &TypedModel, spec: &EncoderSpec, dim: usize) -> Result<()> {
    // An input is a node of its own; an output is a labelled outlet.
    let label =
        |o: &OutletId| model.outlet_label(*o).map(str::to_string).unwrap_or_else(|| model.node(o.node).name.clone());
    let inputs: Vec<String> = model.input_outlets().map_err(Error::contract)?.iter().map(label).collect();
    let outputs: Vec<String> = model.output_outlets().map_err(Error::contract)?.iter().map(label).collect();
    if inputs != [spec.input.clone()] {
        return Err(Error::contract(format!("expected one input {:?}, found {inputs:?}", spec.input)));
    }
    if outputs.first() != Some(&spec.output) {
        return Err(Error::contract(format!("expected output {:?} first, found {outputs:?}", spec.output)));
    }
    let input = model.input_fact(0).map_err(Error::contract)?;
    let in_shape = input.shape.to_tvec();
    let length_ok = in_shape.len() == 3 && in_shape[1].to_i64().is_err();
    if input.datum_type != f32::datum_type() || !length_ok || in_shape[0] != 1.to_dim() || in_shape[2] != dim.to_dim() {
        return Err(Error::contract(format!(
            "input must be float32 [1, L, {dim}] with a symbolic L, found {:?} {:?}",
            input.datum_type, in_shape
        )));
    }
    let out = model.output_fact(0).map_err(Error::contract)?;
    let out_shape = out.shape.to_tvec();
    if out.datum_type != f32::datum_type() || out_shape != tvec![1.to_dim(), dim.to_dim()] {
        return Err(Error::contract(format!(
            "output must be float32 [1, {dim}], found {:?} {:?}",
            out.datum_type, out_shape
        )));
    }
    Ok(())
}
