//! Fuzz target: the PATCH path parser — any input, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = scimd_core::filter::parse_patch_path(text);
    }
});
