//! The encoder's NNEF tar, checked entry by entry before tract reads it
//! (issue 36, safetensors' rule: nothing is allocated that the bytes present
//! do not back). What the contract holds: one `graph.nnef` and float32
//! tensors in NNEF's `.dat` form, nothing else.

use crate::error::{Error, Result};
use std::io::Read;

/// Entries in the tar (the shipped encoders hold 13).
const MAX_ENTRIES: usize = 512;
/// The graph text's size (the shipped graphs are ~6 KB; a four-layer
/// encoder's is a few tens). tract parses ~4 ms a KB in WebAssembly before
/// the parsed graph can be checked: 64 KiB keeps a refusal near 0.3 s.
pub const MAX_GRAPH_BYTES: usize = 64 * 1024;
/// NNEF's tensor file header (Khronos NNEF 1.0.5 §3.1).
const DAT_HEADER: usize = 128;
const DAT_MAGIC: [u8; 2] = [0x4e, 0xef];
/// NNEF's largest tensor rank.
const MAX_RANK: usize = 8;

/// The graph text of a tar that follows the contract, else `MODEL_CONTRACT`
/// naming the entry refused.
pub fn graph_text(tar: &[u8]) -> Result<String> {
    let mut archive = tar::Archive::new(tar);
    let mut graph = None;
    let mut names = std::collections::HashSet::new();
    let entries = archive.entries().map_err(|e| Error::contract(format!("the encoder is not a readable tar: {e}")))?;
    for (index, entry) in entries.enumerate() {
        if index >= MAX_ENTRIES {
            return Err(Error::contract(format!("the encoder's tar holds more than {MAX_ENTRIES} entries")));
        }
        let mut entry =
            entry.map_err(|e| Error::contract(format!("the encoder's tar entry {index} is unreadable: {e}")))?;
        let kind = entry.header().entry_type();
        let path = entry.path().map_err(|e| Error::contract(format!("tar entry {index} has no readable name: {e}")))?;
        let name = path.to_string_lossy().trim_start_matches("./").to_string();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(Error::contract(format!("tar entry {name:?} is not a plain file")));
        }
        if !names.insert(name.clone()) {
            return Err(Error::contract(format!("tar entry {name:?} appears twice")));
        }
        let size = entry.size();
        if name == "graph.nnef" {
            if size > MAX_GRAPH_BYTES as u64 {
                return Err(Error::contract(format!(
                    "graph.nnef is {size} bytes; the contract allows {MAX_GRAPH_BYTES}"
                )));
            }
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| Error::contract(format!("graph.nnef is not UTF-8 text: {e}")))?;
            graph = Some(text);
        } else if name.ends_with(".dat") && !name.split('/').any(|part| part == ".." || part.is_empty()) {
            let mut header = [0u8; DAT_HEADER];
            entry
                .read_exact(&mut header)
                .map_err(|_| Error::contract(format!("{name} is shorter than a tensor header")))?;
            check_dat_header(&name, &header, size - DAT_HEADER as u64)?;
        } else {
            return Err(Error::contract(format!(
                "tar entry {name:?} is not part of the encoder contract (graph.nnef and float32 .dat tensors only)"
            )));
        }
    }
    graph.ok_or_else(|| Error::contract("the encoder's tar has no graph.nnef"))
}

fn u32_at(header: &[u8; DAT_HEADER], at: usize) -> u32 {
    u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
}

/// A float32 tensor whose declared shape is exactly the bytes that follow.
fn check_dat_header(name: &str, header: &[u8; DAT_HEADER], data_bytes: u64) -> Result<()> {
    if header[..2] != DAT_MAGIC || header[2] != 1 {
        return Err(Error::contract(format!("{name} is not an NNEF 1.x tensor file")));
    }
    let declared = u32_at(header, 4) as u64;
    let rank = u32_at(header, 8) as usize;
    if rank > MAX_RANK {
        return Err(Error::contract(format!("{name} declares rank {rank}; NNEF allows {MAX_RANK}")));
    }
    let dims: Vec<u64> = (0..rank).map(|i| u32_at(header, 12 + 4 * i) as u64).collect();
    let (bits, item_type, vendor) = (
        u32_at(header, 44),
        u16::from_le_bytes([header[48], header[49]]),
        u16::from_le_bytes([header[50], header[51]]),
    );
    if (bits, item_type, vendor) != (32, 0, 0) {
        return Err(Error::contract(format!(
            "{name} holds {bits}-bit items of type {item_type} (vendor {vendor}); the contract's weights are float32"
        )));
    }
    let expected = dims.iter().try_fold(4u64, |acc, &d| acc.checked_mul(d));
    if expected != Some(declared) || declared != data_bytes {
        return Err(Error::contract(format!(
            "{name} declares a float32 tensor of shape {dims:?} and {declared} bytes of data, but {data_bytes} bytes follow its header"
        )));
    }
    Ok(())
}
