//! Fuzz target: the filter parser, resolution against the built-in schemas, and the
//! in-memory evaluator on a sample user — any input, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_core::builtin::standard_registry;
use scimd_core::filter::{matches, parse_filter, resolve_filter};
use scimd_core::schema::ResourceKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(f) = parse_filter(text) else { return };
    let reg = standard_registry();
    for kind in [ResourceKind::User, ResourceKind::Group] {
        if let Ok(r) = resolve_filter(&reg, kind, &f) {
            let user = serde_json::json!({"userName": "bjensen", "name": {"givenName": "Barbara"},
                "emails": [{"value": "b@x.example", "type": "work", "primary": true}], "active": true});
            let _ = matches(&r, &user);
        }
    }
});
