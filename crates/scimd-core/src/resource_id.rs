//! The rule for resource ids given from outside rather than generated: a product's
//! existing ids, kept when its users are imported, and ids an operator chooses for the
//! groups they make. An id ends up in URLs (`/Users/{id}`, `meta.location`), in
//! references (`members[].value`) and in filters, so it must read the same in all of them.

/// The longest id taken (generated ids are 36 characters).
pub const MAX_LEN: usize = 128;

/// Characters that would change what a URL path holding the id means (a separator, the
/// start of a query or fragment, a percent escape) or that filters and logs quote.
const REFUSED: &[char] = &['/', '?', '#', '%', '\\', '"'];

/// Whether `id` can be a resource's id, or why not (a sentence naming the rule).
pub fn check(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("an id cannot be empty".into());
    }
    if id.chars().count() > MAX_LEN {
        return Err(format!("the id '{id}' is longer than {MAX_LEN} characters"));
    }
    if let Some(c) = id.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "the id '{}' holds {:?}: ids are printable ASCII, without spaces or other characters a URL would escape",
            id.escape_debug(),
            c
        ));
    }
    if let Some(c) = id.chars().find(|c| REFUSED.contains(c)) {
        return Err(format!("the id '{id}' holds '{c}', which a URL path or a filter would read otherwise"));
    }
    // `.search` is an endpoint, `.` and `..` are path segments of their own.
    if id.starts_with('.') {
        return Err(format!("the id '{id}' starts with '.', which the endpoints use (/Users/.search)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_ids_pass_and_the_rest_are_named() {
        for ok in ["0001234", "2819c223-7f76-453a-919d-413861904646", "E-42", "ada@example.com", "a.b_c~d:e+f"] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        assert!(check(&"x".repeat(MAX_LEN)).is_ok());
        for (bad, words) in [
            ("", "empty"),
            ("a/b", "'/'"),
            ("a?b", "'?'"),
            ("a#b", "'#'"),
            ("50%", "'%'"),
            ("a b", "printable ASCII"),
            (" a", "printable ASCII"),
            ("é", "printable ASCII"),
            ("a\u{0}", "printable ASCII"),
            (".search", "'.'"),
            ("..", "'.'"),
        ] {
            let e = check(bad).unwrap_err();
            assert!(e.contains(words), "{bad:?}: {e}");
        }
        assert!(check(&"x".repeat(MAX_LEN + 1)).unwrap_err().contains("longer than 128"));
    }
}
