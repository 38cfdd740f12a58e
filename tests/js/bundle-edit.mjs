// Rewriting a bundle in JavaScript, as a hostile one would be made (issue 36):
// its tensors and manifest as read, the encoder's tar (graph.nnef and its
// .dat files) edited, and every checksum and offset written again, so that a
// mutation reaches the readers instead of stopping at the checksum.
//
// A bundle is safetensors: an 8-byte little-endian header length, a JSON
// header (dtype, shape and data_offsets per tensor, `__metadata__` holding the
// `edgerec.manifest` JSON text with each tensor's checksum), then the data.
// The encoder is tensor `encoder_nnef`, an uncompressed tar.

const MASK = (1n << 64n) - 1n;
const SEED = 0x9e3779b97f4a7c15n;
const MUL = 0xff51afd7ed558ccdn;
const rotl23 = (h) => ((h << 23n) | (h >> 41n)) & MASK;

/** The bundle's 64-bit tensor checksum as 16 hex digits (src/bundle/checksum.rs). */
export function checksumHex(bytes) {
  let h = SEED ^ BigInt(bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words = bytes.length - (bytes.length % 8);
  for (let i = 0; i < words; i += 8) h = ((rotl23(h) ^ view.getBigUint64(i, true)) * MUL) & MASK;
  for (let i = words; i < bytes.length; i++) h = ((rotl23(h) ^ BigInt(bytes[i])) * MUL) & MASK;
  return (h ^ (h >> 29n)).toString(16).padStart(16, '0');
}

/** A bundle's parts: `tensors` (name → { dtype, shape, data }, in file order), `metadata` and `manifest` (parsed). */
export function readBundle(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const data = bytes.subarray(8 + headerLength);
  const { __metadata__: metadata, ...infos } = header;
  const tensors = new Map(
    Object.entries(infos)
      .sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0])
      .map(([name, { dtype, shape, data_offsets: [start, end] }]) => [name, { dtype, shape, data: data.subarray(start, end) }]),
  );
  return { tensors, metadata, manifest: JSON.parse(metadata['edgerec.manifest']) };
}

/**
 * The bytes of `parts` (readBundle's, edited). The checksums of tensors in
 * `changed` (default: all) are computed again; a U8 tensor's shape follows its length.
 */
export function writeBundle({ tensors, metadata, manifest }, changed = [...tensors.keys()]) {
  const checksums = { ...manifest.checksums };
  for (const name of changed) checksums[name] = checksumHex(tensors.get(name).data);
  // The manifest's own text where only checksums changed (JSON.stringify would write 1.0 as 1).
  let text = metadata['edgerec.manifest'];
  if (JSON.stringify(JSON.parse(text)) === JSON.stringify(manifest)) {
    for (const [name, sum] of Object.entries(checksums)) {
      text = text.replace(`${JSON.stringify(name)}:${JSON.stringify(manifest.checksums[name])}`, `${JSON.stringify(name)}:${JSON.stringify(sum)}`);
    }
  } else {
    text = JSON.stringify({ ...manifest, checksums });
  }
  const header = { __metadata__: { ...metadata, 'edgerec.manifest': text } };
  let at = 0;
  for (const [name, { dtype, shape, data }] of tensors) {
    header[name] = { dtype, shape: dtype === 'U8' && shape.length === 1 ? [data.length] : shape, data_offsets: [at, at + data.length] };
    at += data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20); // spaces, as safetensors pads
  padded.set(json);
  const out = new Uint8Array(8 + padded.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded.length), true);
  out.set(padded, 8);
  let offset = 8 + padded.length;
  for (const { data } of tensors.values()) {
    out.set(data, offset);
    offset += data.length;
  }
  return out;
}

// ---- the encoder's tar (ustar headers, as tract writes them) ----

const field = (block, start, length) => new TextDecoder('latin1').decode(block.subarray(start, start + length)).replace(/\0.*$/s, '');

/** A tar's entries: [{ name, header (its 512-byte header block), data }]. */
export function readTar(bytes) {
  const entries = [];
  for (let at = 0; at + 512 <= bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    const name = field(header, 0, 100);
    if (name === '') break; // the two zero blocks at the end
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    entries.push({ name, header: header.slice(), data: bytes.subarray(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

function writeOctal(block, start, length, value) {
  block.set(new TextEncoder().encode(value.toString(8).padStart(length - 1, '0')), start);
  block[start + length - 1] = 0;
}

/**
 * A tar of `entries` (readTar's, edited). Each header keeps its fields but
 * the name (when changed) and the size; its checksum is computed again.
 * `rawSize` (an entry's own) writes that text in the size field as it is.
 */
export function writeTar(entries) {
  const blocks = [];
  for (const { name, header: original, data, rawSize } of entries) {
    const header = original ? original.slice() : newHeader();
    if (field(header, 0, 100) !== name) {
      header.fill(0, 0, 100);
      header.set(new TextEncoder().encode(name).subarray(0, 100), 0);
    }
    if (rawSize !== undefined) {
      header.fill(0, 124, 136);
      header.set(new TextEncoder().encode(rawSize).subarray(0, 12), 124);
    } else {
      writeOctal(header, 124, 12, data.length);
    }
    header.fill(0x20, 148, 156);
    writeOctal(header, 148, 8, header.reduce((sum, b) => sum + b, 0));
    blocks.push(header, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** A plain file's header: mode 0644, owner 0, mtime 0, ustar. */
function newHeader() {
  const h = new Uint8Array(512);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 136, 12, 0);
  h[156] = 0x30; // '0': a regular file
  h.set(new TextEncoder().encode('ustar\u000000'), 257);
  return h;
}

/** `bundle` (bytes) with its encoder's tar entries replaced by `edit(entries)`; checksums written again. */
export function editEncoder(bundle, edit) {
  const parts = readBundle(bundle);
  const encoder = parts.tensors.get('encoder_nnef');
  const entries = edit(readTar(encoder.data));
  parts.tensors.set('encoder_nnef', { ...encoder, data: writeTar(entries) });
  return writeBundle(parts, ['encoder_nnef']);
}

/** `bundle` with its graph.nnef text replaced by `edit(text)`. */
export function editGraph(bundle, edit) {
  return editEncoder(bundle, (entries) =>
    entries.map((e) => (e.name === 'graph.nnef' ? { ...e, data: new TextEncoder().encode(edit(new TextDecoder().decode(e.data))) } : e)),
  );
}

/** The encoder's graph.nnef text. */
export function graphText(bundle) {
  const entry = readTar(readBundle(bundle).tensors.get('encoder_nnef').data).find((e) => e.name === 'graph.nnef');
  return new TextDecoder().decode(entry.data);
}

// ---- hostile graphs (issue 36) ----

/** An expression nested `depth` brackets deep where the graph had `axes = [0]`. */
export const deeplyNested = (depth = 3000) => (text) => text.replace('axes = [0]', `axes = ${'['.repeat(depth)}0${']'.repeat(depth)}`);

/** A fragment that calls itself, called by the graph. */
export const selfCalling = () => (text) =>
  text
    .replace('graph network(', 'fragment edgerec_loop(x: tensor<scalar>) -> (y: tensor<scalar>)\n{\n  y = edgerec_loop(x);\n}\n\ngraph network(')
    .replace('session = __Div;', 'session = edgerec_loop(__Div);');

/**
 * Tar entries (readTar's) with every `.dat` header declaring one dimension of
 * 2^29 float32s, 2 GiB (NNEF 1.0.5 §3.1: data length at byte 4, rank at 8, dims from 12).
 */
export const declaringTwoGiB = (entries) =>
  entries.map((e) => {
    if (!e.name.endsWith('.dat')) return e;
    const data = e.data.slice();
    const view = new DataView(data.buffer);
    view.setUint32(4, 2 ** 31, true);
    view.setUint32(8, 1, true);
    view.setUint32(12, 2 ** 29, true);
    return { ...e, data };
  });
