//! Fuzz target: a PatchOp request body, parsed (lenient and strict) and applied to a
//! sample user and group — any input, no panic, and a successful PATCH leaves a document
//! that prepares again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimd_core::builtin::standard_registry;
use scimd_core::patch::{apply_patch, parse_patch_request};
use scimd_core::schema::ResourceKind;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let reg = standard_registry();
    let user = serde_json::json!({"userName": "bjensen", "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "b@x.example", "type": "work", "primary": true}, {"value": "h@x.example", "type": "home"}],
        "active": true});
    for strict in [false, true] {
        let Ok(ops) = parse_patch_request(&body, strict) else { continue };
        for (kind, doc) in
            [(ResourceKind::User, &user), (ResourceKind::Group, &serde_json::json!({"displayName": "g"}))]
        {
            if let Ok(out) = apply_patch(&reg, kind, doc, &ops) {
                let _ = scimd_core::resource::index_entries(&reg, kind, &out.doc);
            }
        }
    }
});
