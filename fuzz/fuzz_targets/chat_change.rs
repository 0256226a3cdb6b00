//! See `qiao_fuzz::chat_change`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| qiao_fuzz::chat_change(data));
