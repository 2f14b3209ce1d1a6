#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bad_input::event_envelope(data));
