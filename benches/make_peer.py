"""The peer for the benchmark: the store's exported ONNX encoder (the one the
bundle carries converted to NNEF) with full-catalog scoring appended (MatMul
with the bundle's item table, then TopK), as one ONNX graph for
onnxruntime-web -- the usual way to serve such a model without edgerec.

usage: python benches/make_peer.py BUNDLE ENCODER.onnx OUT.onnx [K]

Also writes OUT.table.f32 (the decoded table, little-endian f32 [n, d]):
the peer's page looks the session's input rows up there.
"""
import io
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
from safetensors.numpy import load_file


def item_table(tensors):
    """The table as f32 whatever the bundle stores: f32, f16, int8 codes x a
    scale per row, or product codes (src/bundle/pq.rs: pieces of the codebook
    rows side by side, each row rescaled to its stored length)."""
    if "item_embeddings_pq_codes" not in tensors:
        table = tensors["item_embeddings"].astype(np.float32)
        if "item_embeddings_scale" in tensors:
            table *= tensors["item_embeddings_scale"][:, None]
        return table
    codes = tensors["item_embeddings_pq_codes"]
    codebook = tensors["item_embeddings_pq_codebook"].astype(np.float32)
    norms = tensors["item_embeddings_pq_norms"].astype(np.float32)
    d = codebook.shape[1]
    width = -(-d // codes.shape[1])
    table = np.empty((codes.shape[0], d), np.float32)
    for s in range(codes.shape[1]):
        span = slice(s * width, min((s + 1) * width, d))
        table[:, span] = codebook[codes[:, s], span]
    lengths = np.maximum(np.linalg.norm(table, axis=1), np.finfo(np.float32).tiny)
    return table * (norms / lengths)[:, None]


def main():
    bundle, encoder, out = sys.argv[1], sys.argv[2], sys.argv[3]
    k = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    table = item_table(load_file(bundle))
    model = onnx.load(encoder)
    g = model.graph
    session = g.output[0].name
    g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(table.T), "peer_table_t"))
    g.initializer.append(numpy_helper.from_array(np.array([k], np.int64), "peer_k"))
    g.node.append(helper.make_node("MatMul", [session, "peer_table_t"], ["peer_logits"]))
    g.node.append(helper.make_node("TopK", ["peer_logits", "peer_k"], ["top_scores", "top_items"], axis=1))
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("top_scores", TensorProto.FLOAT, [1, k]))
    g.output.append(helper.make_tensor_value_info("top_items", TensorProto.INT64, [1, k]))
    onnx.checker.check_model(model)
    onnx.save(model, out)
    table.astype("<f4").tofile(out + ".table.f32")
    print(f"peer model: encoder + MatMul[{table.shape[1]}x{table.shape[0]}] + TopK({k}) -> {out}")


if __name__ == "__main__":
    main()
