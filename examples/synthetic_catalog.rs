//! A synthetic large catalog for the million-item benchmark (benches/million.mjs):
//!
//!   cargo run --release --example synthetic_catalog -- BASE.edgerec ITEMS OUT.edgerec [TABLE_FORMAT]
//!
//! Item `i` is a copy of the base bundle's item `i % n` (copy 0 keeps the real
//! ids, so the store's policy still applies; later copies are `ID~c`): its row
//! is the base row plus Gaussian noise of a third of the row's spread per
//! dimension (so copies are near, not equal, and the scan cannot stop early),
//! its attributes and session counts are the base item's, and its co-purchase
//! neighbours are the base item's best `NEIGHBOURS` within its copy (a store
//! with a million items prunes its lists: 36 a row would be 290 MB here). The encoder, its
//! dimension and the policy are the base bundle's. Table format `pq` by default.

use edgerec::bundle::{Bundle, CoPurchase, TableFormat};
use edgerec::{Engine, Result};

/// Co-purchase neighbours kept per item.
const NEIGHBOURS: usize = 4;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, items, out, rest @ ..] = args.as_slice() else {
        eprintln!("usage: synthetic_catalog BASE.edgerec ITEMS OUT.edgerec [TABLE_FORMAT]");
        std::process::exit(2);
    };
    let total: usize = items.parse().map_err(|_| edgerec::Error::InvalidInput(format!("ITEMS {items:?}")))?;
    let format = TableFormat::parse(rest.first().map_or("pq", String::as_str))?;
    let base = Bundle::from_bytes(&std::fs::read(base).map_err(|e| edgerec::Error::InvalidInput(e.to_string()))?)?;
    let big = scale_up(&base, total, format);
    let bytes = big.to_bytes()?;
    Engine::load(&bytes)?;
    std::fs::write(out, &bytes).map_err(|e| edgerec::Error::InvalidInput(e.to_string()))?;
    println!("wrote {out}: {total} items, d = {}, {format} table, {} bytes", big.manifest.dim, bytes.len());
    Ok(())
}

fn scale_up(base: &Bundle, total: usize, format: TableFormat) -> Bundle {
    let (n, d) = (base.manifest.item_count, base.manifest.dim);
    let rows = base.table_values();
    let mut noise = Gaussian(0x2545_F491_4F6C_DD1D);
    let spread = (rows.iter().map(|v| v * v).sum::<f32>() / rows.len() as f32).sqrt();
    let mut embeddings = Vec::with_capacity(total * d);
    for i in 0..total {
        let b = i % n;
        embeddings.extend(rows[b * d..(b + 1) * d].iter().map(|&v| v + spread / 3.0 * noise.next()));
    }
    let ids = (0..total)
        .map(|i| match i / n {
            0 => base.manifest.item_ids[i].clone(),
            copy => format!("{}~{copy}", base.manifest.item_ids[i % n]),
        })
        .collect();
    let cp = &base.copurchase;
    let mut copurchase = CoPurchase { offsets: vec![0], ..CoPurchase::default() };
    for i in 0..total {
        let first = i / n * n;
        for k in cp.range(i % n).take(NEIGHBOURS) {
            let j = first + cp.neighbors[k] as usize;
            if j < total {
                copurchase.neighbors.push(j as u32);
                copurchase.support.push(cp.support[k]);
                copurchase.confidence.push(cp.confidence[k]);
                copurchase.lift.push(cp.lift[k]);
            }
        }
        copurchase.offsets.push(copurchase.neighbors.len() as u32);
    }
    let mut big = base.clone();
    let a = &base.attributes;
    let each = |v: &Vec<f32>| (0..total).map(|i| v[i % n]).collect::<Vec<f32>>();
    big.attributes.price = each(&a.price);
    big.attributes.margin = each(&a.margin);
    big.attributes.popularity = each(&a.popularity);
    big.attributes.category = (0..total).map(|i| a.category[i % n]).collect();
    big.attributes.in_stock = (0..total).map(|i| a.in_stock[i % n]).collect();
    big.attributes.item_sessions = (0..total).map(|i| a.item_sessions[i % n]).collect();
    big.manifest.item_count = total;
    big.manifest.item_ids = ids;
    big.manifest.titles.clear();
    big.manifest.model_card.notes = format!(
        "Synthetic {total}-item catalog from {} ({n} items) by examples/synthetic_catalog.rs; for benchmarks only.",
        base.manifest.model_card.dataset
    );
    big.embeddings = embeddings;
    big.int8_rows = None;
    big.product_codes = None;
    big.table_format = format;
    big.copurchase = copurchase;
    big
}

/// Standard normal samples (xorshift + Box–Muller): reproducible.
struct Gaussian(u64);

impl Gaussian {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    fn next(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}
