use crate::internal::*;
use tract_core::ops;

mod broadcast;
mod cast;
mod clamped_swiglu;
#[cfg(feature = "complex")]
mod complex;
mod cumsum;
mod dyn_slice;
mod einsum;
mod gather;
mod gelu_approximate;
mod gru_cell;
mod gru_seq;
mod is_inf;
mod lstm_cell;
mod matmul;
mod one_hot;
mod pow_const;
#[allow(dead_code)] // edgerec: kept for matmul's axes spec; not registered
mod qmatmul;
mod range;
mod reduce;
mod rms_norm;
mod scan;
mod shape_of;
mod silu;
mod softmax;
mod source;
mod trilu;

pub fn register(registry: &mut Registry) {
    registry.register_unit_element_wise("tract_core_round_even", &ops::math::RoundHalfToEven {});
    registry.register_unit_element_wise("tract_core_erf", &ops::math::Erf {});
    registry.register_unit_element_wise("tract_core_hard_swish", &ops::nn::HardSwish {});


    registry.register_unit_element_wise("tract_core_is_nan", &ops::math::IsNan {});

    broadcast::register(registry);
    cast::register(registry);
    clamped_swiglu::register(registry);
    #[cfg(feature = "complex")]
    complex::register(registry);
    cumsum::register(registry);
    dyn_slice::register(registry);
    einsum::register(registry);
    gather::register(registry);
    gelu_approximate::register(registry);
    pow_const::register(registry);
    gru_cell::register(registry);
    gru_seq::register(registry);
    lstm_cell::register(registry);
    matmul::register(registry);
    one_hot::register(registry);
    reduce::register(registry);
    rms_norm::register(registry);
    scan::register(registry);
    shape_of::register(registry);
    silu::register(registry);
    softmax::register(registry);
    source::register(registry);
    range::register(registry);
    trilu::register(registry);
    is_inf::register(registry);
}
