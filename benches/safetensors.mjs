// Reading a bundle's safetensors header in the benchmarks (the engine's own
// reader is Rust; these only need names, shapes and the manifest).

/** Tensors of a safetensors file, by name: { dtype, shape, bytes }. */
export function readSafetensors(buf) {
  const n = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  const out = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    out[name] = { ...t, bytes: buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]) };
  }
  return { tensors: out, metadata: header.__metadata__ };
}

/** The bundle's manifest (`edgerec.manifest` metadata), parsed. */
export function manifestOf(bytes) {
  return JSON.parse(readSafetensors(bytes).metadata['edgerec.manifest']);
}
