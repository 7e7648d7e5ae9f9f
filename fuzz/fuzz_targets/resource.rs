//! Fuzz target: a POST/PUT body through `prepare` (names, types, mutability, required),
//! then the index entries and the output form of what it accepted — any input, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_core::builtin::standard_registry;
use scimd_core::resource::{Meta, full_resource, index_entries, prepare};
use scimd_core::schema::ResourceKind;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let reg = standard_registry();
    for kind in [ResourceKind::User, ResourceKind::Group] {
        if let Ok(p) = prepare(&reg, kind, &body) {
            let _ = index_entries(&reg, kind, &p.doc);
            let meta = Meta {
                created: "2026-01-01T00:00:00Z".into(),
                last_modified: "2026-01-01T00:00:00Z".into(),
                location: "http://x/Users/1".into(),
                version: "W/\"1\"".into(),
            };
            let _ = full_resource(&reg, kind, p.doc, "1", &meta, None);
        }
    }
});
