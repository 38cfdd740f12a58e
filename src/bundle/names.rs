//! The names a bundle file gives its tensors and its metadata keys.

/// Names of the tensors inside a bundle.
pub mod tensor_names {
    pub const EMBEDDINGS: &str = "item_embeddings";
    /// Per-row scales of an int8 table.
    pub const EMBEDDING_SCALES: &str = "item_embeddings_scale";
    /// A product-quantised table (format `pq`, instead of `EMBEDDINGS`):
    /// u8 codes `[n, subspaces]`, the f32 codebook `[256, dim]` and each
    /// row's length, f16 `[n]`.
    pub const PQ_CODES: &str = "item_embeddings_pq_codes";
    pub const PQ_CODEBOOK: &str = "item_embeddings_pq_codebook";
    pub const PQ_NORMS: &str = "item_embeddings_pq_norms";
    /// The encoder as tract NNEF (a tar), what `edgerec build` writes.
    pub const ENCODER_NNEF: &str = "encoder_nnef";
    /// The encoder as exported ONNX (older bundles; exactly one of the two).
    pub const ENCODER_ONNX: &str = "encoder_onnx";
    pub const CP_OFFSETS: &str = "copurchase_offsets";
    pub const CP_NEIGHBORS: &str = "copurchase_neighbors";
    pub const CP_SUPPORT: &str = "copurchase_support";
    pub const CP_CONFIDENCE: &str = "copurchase_confidence";
    pub const CP_LIFT: &str = "copurchase_lift";
    pub const PRICE: &str = "item_price";
    pub const CATEGORY: &str = "item_category";
    pub const MARGIN: &str = "item_margin";
    pub const IN_STOCK: &str = "item_in_stock";
    /// Format 1 only (format 2 derives it from `ITEM_SESSIONS`).
    pub const POPULARITY: &str = "item_popularity";
    /// Sessions containing each item (format 2).
    pub const ITEM_SESSIONS: &str = "item_sessions";
}

/// Metadata keys (safetensors `__metadata__`).
pub mod meta_keys {
    pub const MANIFEST: &str = "edgerec.manifest";
    pub const POLICY: &str = "edgerec.policy";
}
