#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| edgerec_fuzz::encoder(data));
