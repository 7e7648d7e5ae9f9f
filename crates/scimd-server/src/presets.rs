//! The tenant presets shipped in `examples/presets/`: named profiles reproducing the
//! products the book's Presets chapter describes, built into the binary for `scimd tenant create --preset` and the admin API.

/// (name, profile JSON) of every preset.
pub const PRESETS: &[(&str, &str)] = &[
    ("interop", include_str!("../../../examples/presets/interop.json")),
    ("ipsie-al1", include_str!("../../../examples/presets/ipsie-al1.json")),
    ("ipsie-al2", include_str!("../../../examples/presets/ipsie-al2.json")),
    ("locker", include_str!("../../../examples/presets/locker.json")),
    ("staffing", include_str!("../../../examples/presets/staffing.json")),
    ("visitor", include_str!("../../../examples/presets/visitor.json")),
    ("workflow", include_str!("../../../examples/presets/workflow.json")),
];

/// The profile JSON of a preset, by name.
pub fn preset(name: &str) -> Option<serde_json::Value> {
    PRESETS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, text)| serde_json::from_str(text).expect("presets are valid JSON (tested)"))
}

/// The names of the presets, for messages.
pub fn names() -> String {
    PRESETS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_preset_is_a_valid_profile_named_as_its_file() {
        for (name, text) in super::PRESETS {
            let p = scimd_core::profile::Profile::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(p.preset.as_deref(), Some(*name));
        }
    }
}
