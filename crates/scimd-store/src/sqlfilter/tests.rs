//! The filter-to-SQL compiler's tests (its results are also property-tested against the core's evaluator, in tests/filter_oracle.rs).

use super::*;

#[test]
fn upper_bound() {
    assert_eq!(prefix_upper_bound("abc").as_deref(), Some("abd"));
    assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
    assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
}

#[test]
fn postgres_parameters_and_patterns() {
    assert_eq!(numbered("a = ? AND b = '?' AND c IN (?, ?)"), "a = $1 AND b = '?' AND c IN ($2, $3)");
    assert_eq!(like_escaped(r"50%_a\b"), r"50\%\_a\\b");
}
