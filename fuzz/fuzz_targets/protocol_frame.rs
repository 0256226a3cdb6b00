//! See `qiao_fuzz::protocol_frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qiao_fuzz::protocol_frame(data));
