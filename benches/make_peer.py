"""The peer for the benchmark: the store's exported ONNX encoder (the one the
bundle carries converted to NNEF) with full-catalog scoring appended (MatMul
with the bundle's item table, then TopK), as one ONNX graph for
onnxruntime-web -- the usual way to serve such a model without edgerec.

usage: python benches/make_peer.py BUNDLE ENCODER.onnx OUT.onnx [K] [--page]

Also writes OUT.table.f32 (the decoded table, little-endian f32 [n, d]),
where the Node benchmark looks the session's input rows up.

--page: the form a store would put in a page (benches/peer-page.mjs): one
table, stored int8 with a scale per row like edgerec's (DequantizeLinear),
the input being the session's item rows (int64 [1, L]) gathered from it.
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


def page_form(g, table):
    """Gather the input rows from one int8 table, score against the same table."""
    scale = np.maximum(np.abs(table).max(axis=1), np.finfo(np.float32).tiny) / 127.0
    codes = np.round(table / scale[:, None]).astype(np.int8)
    g.initializer.append(numpy_helper.from_array(codes, "peer_table_q"))
    g.initializer.append(numpy_helper.from_array(scale.astype(np.float32), "peer_table_scale"))
    g.initializer.append(numpy_helper.from_array(np.zeros(len(scale), np.int8), "peer_table_zero"))
    embeddings = g.input[0].name
    del g.input[:]
    g.input.append(helper.make_tensor_value_info("rows", TensorProto.INT64, [1, "L"]))
    prologue = [
        helper.make_node("DequantizeLinear", ["peer_table_q", "peer_table_scale", "peer_table_zero"], ["peer_table"], axis=0),
        helper.make_node("Gather", ["peer_table", "rows"], [embeddings], axis=0),
    ]
    for i, node in enumerate(prologue):
        g.node.insert(i, node)
    return ("Gemm", ["peer_table"], {"transB": 1})


def main():
    args = [a for a in sys.argv[1:] if a != "--page"]
    page = "--page" in sys.argv
    bundle, encoder, out = args[0], args[1], args[2]
    k = int(args[3]) if len(args) > 3 else 10
    table = item_table(load_file(bundle))
    model = onnx.load(encoder)
    g = model.graph
    session = g.output[0].name
    if page:
        op, weights, attrs = page_form(g, table)
    else:
        g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(table.T), "peer_table_t"))
        op, weights, attrs = "MatMul", ["peer_table_t"], {}
    g.initializer.append(numpy_helper.from_array(np.array([k], np.int64), "peer_k"))
    g.node.append(helper.make_node(op, [session, *weights], ["peer_logits"], **attrs))
    g.node.append(helper.make_node("TopK", ["peer_logits", "peer_k"], ["top_scores", "top_items"], axis=1))
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("top_scores", TensorProto.FLOAT, [1, k]))
    g.output.append(helper.make_tensor_value_info("top_items", TensorProto.INT64, [1, k]))
    onnx.checker.check_model(model)
    onnx.save(model, out)
    if not page:
        table.astype("<f4").tofile(out + ".table.f32")
    form = "int8 table: Gather + encoder + Gemm" if page else "encoder + MatMul"
    print(f"peer model ({form}) [{table.shape[1]}x{table.shape[0]}] + TopK({k}) -> {out}")


if __name__ == "__main__":
    main()
