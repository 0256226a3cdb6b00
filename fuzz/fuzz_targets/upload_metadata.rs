//! See `qiao_fuzz::upload_metadata`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qiao_fuzz::upload_metadata(data));
