//! A bundle whose encoder graph is hostile or broken is refused with a coded
//! error before tract builds it (issue 36): no stack overflow, no panic, no
//! allocation the bytes present do not back, no parse that takes minutes.
//! Every bundle here is rewritten whole, checksums recomputed, so each edit
//! reaches the readers.

mod common;
#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

use edgerec::bundle::Bundle;
use edgerec::encoder::{Encoder, EncoderBytes, EncoderFormat};
use edgerec::Model;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use targets::encoder_edits::{tar_entries, tar_of, with_graph};

/// Counts the largest single allocation, to show a declared size is not
/// allocated before it is checked against the bytes that back it.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

type Entries = Vec<(String, Vec<u8>)>;

fn shipped() -> (Bundle, Entries, String) {
    let bundle = common::default_bundle();
    let entries = tar_entries(&bundle.encoder.bytes);
    let graph = String::from_utf8(entries.iter().find(|e| e.0 == "graph.nnef").unwrap().1.clone()).unwrap();
    (bundle, entries, graph)
}

/// The load of the shipped bundle with `tar` as its encoder: its error's code and message.
fn refusal(mut bundle: Bundle, tar: Vec<u8>) -> (&'static str, String) {
    bundle.encoder.bytes = tar;
    let e = Model::load(&bundle.to_bytes().unwrap()).expect_err("a hostile encoder must not load");
    (e.code(), e.to_string())
}

/// The refusal of the shipped graph with `from` replaced by `to` (which must occur).
fn graph_refusal(from: &str, to: &str) -> (&'static str, String) {
    let (bundle, entries, graph) = shipped();
    assert!(graph.contains(from), "the shipped graph has {from:?}");
    refusal(bundle, with_graph(&entries, &graph.replacen(from, to, 1)))
}

fn assert_refused((code, message): (&str, String), naming: &str) {
    assert_eq!(code, "MODEL_CONTRACT", "{message}");
    assert!(message.contains(naming), "{message:?} should name {naming:?}");
}

#[test]
fn the_shipped_encoders_pass_the_checks() {
    Model::load(&common::default_bytes()).unwrap();
    Model::load(&std::fs::read(targets::repo_file("models/diginetica/diginetica.edgerec")).unwrap()).unwrap();
    // Rewriting the tar changes nothing the checks read.
    let (mut bundle, entries, _) = shipped();
    bundle.encoder.bytes = tar_of(&entries);
    Model::load(&bundle.to_bytes().unwrap()).unwrap();
}

#[test]
fn deep_nesting_is_refused_before_the_parser_recurses() {
    // 3000 levels overflowed the stack; 20 took 46 s to parse.
    for depth in [9, 20, 3000] {
        let nested = format!("axes = {}0{}", "[".repeat(depth), "]".repeat(depth));
        assert_refused(graph_refusal("axes = [0]", &nested), "nests deeper than 8");
        let parenthesised = format!("axes = [{}0{}]", "(".repeat(depth), ")".repeat(depth));
        assert_refused(graph_refusal("axes = [0]", &parenthesised), "nests deeper than 8");
        let prefixed = format!("axes = [{}0]", "- ".repeat(depth));
        assert_refused(graph_refusal("axes = [0]", &prefixed), "nests deeper than 8");
    }
    let long = format!("hidden = {}100", "1 + ".repeat(20));
    assert_refused(graph_refusal("hidden = 100", &long), "more than 16 operators");
}

#[test]
fn a_fragment_that_calls_itself_is_refused() {
    let call =
        "Ht_1 = scan_body_0(h_source, __gru_GRU_extracted__gru_GRU_Xt_WT, __gru_GRU_Rb_all, __gru_GRU_Wb_all, R);";
    assert_refused(graph_refusal("Ht_1 = squeeze(h_source, axes = [0]);", call), "\"scan_body_0\" calls itself");
}

#[test]
fn a_tensor_assigned_twice_is_refused() {
    // Found by the fuzzer: tract accepted 880 repeats of one line, and took 3.6 s to build them.
    let line = "  __energy_MatMul_fix_c_1 = transpose(__energy_MatMul_fix_c_0, axes = [0, 3, 1, 2]);";
    assert_refused(graph_refusal(line, &format!("{line}\n{line}")), "\"__energy_MatMul_fix_c_1\" is assigned twice");
}

#[test]
fn more_statements_or_operations_than_the_contract_allows_are_refused() {
    // 16,000 lines took 21 s to build; in WebAssembly 1,000 parenthesised aliases took 1.4 s and
    // 943 statements of two operations 0.7 s.
    for (line, naming) in
        [("__Div", "more than 500 statements"), ("__Div + __Div * __Div - __Div / __Div", "more than 500 operations")]
    {
        let extra: String = (0..500).map(|i| format!("  extra_{i} = {line};\n")).collect();
        assert_refused(graph_refusal("  session = __Div;", &format!("{extra}  session = __Div;")), naming);
    }
}

#[test]
fn attributes_that_made_tract_panic_are_refused() {
    for (from, to, naming) in [
        ("hidden = 100", "hidden = 0", "hidden"),
        ("axes = [1, 0, 2]", "axes = [2147483647]", "integer 2147483647"),
        ("axes = [1, 0, 2]", "axes = [1, 2, 2]", "must be distinct"),
        ("add(__query_MatMul_fix_c_0, __key_MatMul_fix_c_0)", "add(__query_MatMul_fix_c_0)", "add needs two operands"),
        ("axes = [1, 0, 2]", "axes = [1, 0, 3]", "not a permutation"),
        ("sum_reduce(__ReduceL2_sq, axes = [1])", "sum_reduce(__ReduceL2_sq, axes = [-1])", "axes [-1]"),
        ("expr = \"mk,nk->mn\"", "expr = \"mk,nk->2147483647\"", "expr"),
        ("\"full\", 0, 1)", "\"full\", 0, 0)", "non-zero chunk"),
        ("shape = [1, L, 100]", "shape = [1, L, -100]", "shape must be sizes"),
        ("shape = [1, L, 100]", "shape = [1, L - 200, 100]", "shape must be sizes"),
    ] {
        assert_refused(graph_refusal(from, to), naming);
    }
}

#[test]
fn axes_beyond_a_tensors_rank_are_refused_by_tract_without_a_panic() {
    // Within 0..8, so the text passes; tract knows the rank (vendor/tract.patch).
    for (from, to) in [
        ("sum_reduce(__ReduceL2_sq, axes = [1])", "sum_reduce(__ReduceL2_sq, axes = [5])"),
        ("Xt_WT_fix_c_0, 0, 1)", "Xt_WT_fix_c_0, 7, 1)"),
        ("\"full\", 0, 1)", "\"full\", 5, 1)"),
    ] {
        assert_refused(graph_refusal(from, to), "not a loadable NNEF encoder");
    }
}

#[test]
fn a_matmul_whose_operands_cannot_match_is_refused_before_a_kernel_reads_past_one() {
    // Found by the encoder fuzz target: without `transposeB` the [1, L, 100] input meets a
    // [1, 300, 100] weight on the summed axis (100 against 300); tract's kernels only
    // debug-assert that (vendor/tract.patch).
    for (from, to) in [
        ("transposeA = false, transposeB = true);", "transposeA = false);"),
        ("transposeA = false, transposeB = true);", "transposeA = true, transposeB = true);"),
    ] {
        assert_refused(graph_refusal(from, to), "do not match");
    }
}

#[test]
fn a_name_in_the_properties_is_refused_without_a_panic() {
    // Found by the encoder fuzz target: tract reads the properties fragment before the
    // graph opens a scope, and unwrapped the scope a name is looked up in (vendor/tract.patch).
    let (code, message) = graph_refusal("{\n  properties = [", "{\n  extra = add(session, session);\n  properties = [");
    assert_eq!(code, "MODEL_CONTRACT", "{message}");
}

#[test]
fn a_fragment_whose_body_never_assigns_its_result_is_refused_without_a_panic() {
    // Found by the encoder fuzz target: the properties fragment, its one assignment gone,
    // called in place of an operator; tract unwrapped the result the body never assigned
    // (vendor/tract.patch).
    let (bundle, entries, graph) = shipped();
    let from = "embeddings = tract_core_external(";
    assert!(graph.contains(from), "the shipped graph has {from:?}");
    let graph = graph.replacen(from, "embeddings = tract_core_properties(", 1);
    let graph: String =
        graph.lines().filter(|l| !l.starts_with("  properties = [")).map(|l| format!("{l}\n")).collect();
    let (code, message) = refusal(bundle, with_graph(&entries, &graph));
    assert_eq!(code, "MODEL_CONTRACT", "{message}");
    assert!(message.contains("never assigns"), "{message}");
}

#[test]
fn a_negative_size_given_as_a_positional_shape_is_refused_without_a_panic() {
    // Found by the encoder fuzz target: `external(-1, …)` binds -1 to `shape` by position,
    // past the screen's check of named shapes; tract's shape fact asserted (vendor/tract.patch).
    for (from, to) in [
        ("tract_core_cast(-1, to = \"i64\")", "external(-1, to = \"i64\")"),
        ("tract_core_cast(-1, to = \"i64\")", "tract_core_external(\"F32\", [-1])"),
        ("tract_core_cast(-1, to = \"i64\")", "tract_core_broadcast(session, [-1])"),
    ] {
        let (code, message) = graph_refusal(from, to);
        assert_eq!(code, "MODEL_CONTRACT", "{to}: {message}");
    }
}

#[test]
fn slices_past_a_tensors_rank_are_refused_without_a_panic() {
    // Found by hand beside the encoder fuzz target: tract indexed the input's shape with
    // the axis of a slice, an unstack or a dyn_slice unchecked, and divided by a slice's
    // stride of 0 (vendor/tract.patch).
    let from = "unsqueeze(__Sigmoid, axes = [0])";
    for to in [
        "slice(__Sigmoid, axes = [5], begin = [0], end = [1])",
        "slice(__Sigmoid, axes = [1], begin = [0], end = [1], stride = [0])",
        "unstack(__Sigmoid, axis = 7)",
        "tract_core_dyn_slice(__Sigmoid, 0, 1, axis = 7, len = 1)",
    ] {
        let (code, message) = graph_refusal(from, to);
        assert_eq!(code, "MODEL_CONTRACT", "{to}: {message}");
    }
}

#[test]
fn an_attribute_given_by_position_is_checked_as_the_parameter_it_binds_to() {
    // tract binds a positional argument to the operator's parameter in that place:
    // `slice(x, [100], …)` is `axes = [100]` (it reached tract's unchecked index).
    let from = "unsqueeze(__Sigmoid, axes = [0])";
    assert_refused(graph_refusal(from, "slice(__Sigmoid, [100], [0], [1])"), "axes");
    assert_refused(graph_refusal(from, "unsqueeze(__Sigmoid, [100])"), "axes");
    assert_refused(graph_refusal("tract_core_cast(-1, to = \"i64\")", "external(-1, to = \"i64\")"), "shape");
}

#[test]
fn operands_whose_sizes_disagree_only_at_run_time_are_an_error_not_a_panic() {
    // Found by the encoder fuzz target: a matmul whose operands agree as facts (L against
    // 1) but not once L is 2; tract's einsum sliced past the shorter one (vendor/tract.patch).
    let (bundle, entries, graph) = shipped();
    let edits = [
        ("__mix_MatMul_concat_einsum_k_100__200 = matmul(", "__mix_MatMul_concat_einsum_k_100__200 = sum_reduce("),
        ("__mix_MatMul_concat_einsum_k_add_1 = add(", "__mix_MatMul_concat_einsum_k_add_1 = matmul("),
    ];
    let graph = edits.iter().fold(graph, |g, (from, to)| {
        assert!(g.contains(from), "the shipped graph has {from:?}");
        g.replacen(from, to, 1)
    });
    let bytes = EncoderBytes { format: EncoderFormat::Nnef, bytes: with_graph(&entries, &graph) };
    let m = &bundle.manifest;
    match Encoder::load(&bytes, &m.encoder, m.dim, m.max_seq_len) {
        Ok(encoder) => {
            let e = encoder.encode(&vec![0.5; m.dim * 2]).expect_err("operands of sizes 2 and 1");
            assert_eq!(e.code(), "MODEL_RUN", "{e}");
        }
        Err(e) => assert_eq!(e.code(), "MODEL_CONTRACT", "{e}"),
    }
}

#[test]
fn a_gather_past_its_axis_is_refused_without_a_panic() {
    // Found by the encoder fuzz target: tract's block copy sliced the input at an
    // index past the axis, unchecked (vendor/tract.patch); within the text's integer bound.
    for index in ["5", "-5", "16777216"] {
        let (code, message) =
            graph_refusal("tract_core_cast(-1, to = \"i64\")", &format!("tract_core_cast({index}, to = \"i64\")"));
        assert_eq!(code, "MODEL_CONTRACT", "{message}");
        assert!(message.to_lowercase().contains("gather"), "{message}");
    }
}

#[test]
fn an_assignment_that_names_no_tensor_is_refused() {
    // Found by the encoder fuzz target: tract indexed the first name of an empty left side.
    let (from, to) = (
        "  __energy_MatMul_fix_a = unsqueeze(__Sigmoid, axes = [0]);",
        "=__energy_MatMul_fix_a ==unsqueeze(__Sigmoid, axes = [0]);",
    );
    assert_refused(graph_refusal(from, to), "names no tensor");
}

#[test]
fn a_matmul_of_scalars_is_refused_without_a_panic() {
    // Found by the encoder fuzz target: tract's numpy matmul subtracted 2 from a rank of 0.
    let (code, message) =
        graph_refusal("(\"onnx.producer_name\", \"pytorch\")", "matmul(\"onnx.producer_name\", \"pytorch\")");
    assert_eq!(code, "MODEL_CONTRACT", "{message}");
}

#[test]
fn operators_outside_the_contract_are_refused() {
    assert_refused(graph_refusal("= sigmoid(", "= tile("), "operator \"tile\"");
    let (bundle, entries, graph) = shipped();
    let comprehension =
        graph.replacen("  session = __Div;", "  extra = [for i in [1] yield i];\n  session = __Div;", 1);
    assert_refused(refusal(bundle, with_graph(&entries, &comprehension)), "comprehensions");
}

/// The shipped tar with `R.dat`'s header edited by `edit`.
fn dat_refusal(edit: impl Fn(&mut Vec<u8>)) -> (&'static str, String) {
    let (bundle, mut entries, _) = shipped();
    edit(&mut entries.iter_mut().find(|e| e.0 == "R.dat").unwrap().1);
    refusal(bundle, tar_of(&entries))
}

fn set_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn a_tensor_header_that_declares_more_than_its_bytes_is_refused_before_allocating() {
    // [536870912, 1] float32: 2 GiB declared, 120 KB present.
    LARGEST.store(0, Ordering::Relaxed);
    let huge = dat_refusal(|dat| {
        set_u32(dat, 4, 1 << 31);
        set_u32(dat, 12, 1 << 29);
        set_u32(dat, 16, 1);
    });
    assert_refused(huge, "2147483648 bytes of data, but 120000 bytes follow");
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest < 64 << 20, "the refusal allocated {largest} bytes at once");
    assert_refused(dat_refusal(|dat| set_u32(dat, 8, 9)), "rank 9");
    assert_refused(dat_refusal(|dat| dat.truncate(1000)), "bytes follow its header");
}

#[test]
fn weights_of_another_type_are_refused() {
    // A weight retyped as bool (NNEF item type 5, 8 bits), its size kept consistent.
    let as_bool = dat_refusal(|dat| {
        let items = (dat.len() - 128) / 4;
        dat.truncate(128 + items);
        set_u32(dat, 4, items as u32);
        set_u32(dat, 44, 8);
        dat[48] = 5;
    });
    assert_refused(as_bool, "the contract's weights are float32");
}

#[test]
fn tar_entries_outside_the_contract_are_refused() {
    let quant = b"\"R\": zero_point_linear_quantize(zero_point = 0, scale = 0.1, bits = 0, signed = true, symmetric = false);\n";
    for (name, bytes, naming) in [
        ("graph.quant", quant.to_vec(), "\"graph.quant\" is not part of the encoder contract"),
        ("sub/graph.nnef", b"version 1.0;".to_vec(), "\"sub/graph.nnef\""),
        ("R.dat", vec![0; 256], "\"R.dat\" appears twice"),
    ] {
        let (bundle, mut entries, _) = shipped();
        entries.push((name.to_string(), bytes));
        assert_refused(refusal(bundle, tar_of(&entries)), naming);
    }
    let (bundle, entries, _) = shipped();
    let without_graph: Entries = entries.into_iter().filter(|e| e.0 != "graph.nnef").collect();
    assert_refused(refusal(bundle, tar_of(&without_graph)), "no graph.nnef");
}

#[test]
fn a_graph_whose_input_or_output_is_not_the_manifests_is_refused() {
    assert_refused(graph_refusal("graph network(embeddings)", "graph network(other)"), "inputs");
    assert_refused(graph_refusal("-> (session)", "-> (other)"), "first output");
}
