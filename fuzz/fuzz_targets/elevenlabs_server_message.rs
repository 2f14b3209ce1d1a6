#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bad_input::elevenlabs_server_message(data));
