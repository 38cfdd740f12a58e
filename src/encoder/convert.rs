//! ONNX → NNEF, once, at build time (native CLI). The store's exported ONNX
//! stays the model contract; the bundle carries tract's NNEF form of it.

use super::{EncoderBytes, EncoderFormat};
use crate::bundle::EncoderSpec;
use crate::error::{Error, Result};
use tract_onnx::prelude::*;

/// Parse the ONNX encoder, pin its input to float32 `[1, L, dim]` (L
/// symbolic) and simplify it into a typed graph of tract-core operators.
pub fn typed_from_onnx(onnx: &[u8], spec: &EncoderSpec, dim: usize) -> Result<TypedModel> {
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut &onnx[..])
        .map_err(|e| Error::contract(format!("not a loadable ONNX model: {e}")))?;
    let inputs = model.input_outlets().map_err(Error::contract)?.len();
    if inputs != 1 {
        return Err(Error::contract(format!("expected one input {:?}, found {inputs}", spec.input)));
    }
    let len = model.symbols.sym("L");
    let shape: TVec<TDim> = tvec![1.to_dim(), len.to_dim(), dim.to_dim()];
    model.set_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), shape)).map_err(Error::contract)?;
    model
        .into_typed()
        .and_then(|m| m.into_decluttered())
        .map_err(|e| Error::contract(format!("cannot type the graph for input [1, L, {dim}]: {e:#}")))
}

/// The ONNX encoder as the NNEF tar a bundle stores. Deterministic (fixed
/// timestamps), so the same model always gives the same bundle bytes.
pub fn onnx_to_nnef(onnx: &[u8], spec: &EncoderSpec, dim: usize) -> Result<EncoderBytes> {
    let typed = typed_from_onnx(onnx, spec, dim)?;
    let bytes = tract_nnef::nnef()
        .write_to_tar_with_config(&typed, Vec::new(), false, true)
        .map_err(|e| Error::contract(format!("cannot write the encoder as NNEF: {e:#}")))?;
    Ok(EncoderBytes { format: EncoderFormat::Nnef, bytes })
}
