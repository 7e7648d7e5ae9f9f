//! The language a product uses for a user, derived from `preferredLanguage` (profile
//! setting `preferred_language_fallback`, with `languages`).
//!
//! `preferredLanguage` is stored and shown exactly as the client sent it: customers also
//! put non-language values there ("Brussels HQ") for location rules to match, so it must
//! never be rewritten. What the product makes of it is a separate, read-only value: the
//! language part of the tag (case ignored, the region dropped: `EN`, `en_US` and `en-GB`
//! are `en`) when the product offers that language, otherwise the fallback. It is kept
//! in the user's document under [`LANGUAGE_URN`], recomputed on every write, and listed
//! in `/Schemas` for the tenants whose profile derives it.

use serde_json::{Map, Value};

/// The read-only User extension holding the language the product uses for the user.
pub const LANGUAGE_URN: &str = "urn:scimd:schemas:extension:language:1.0:User";

/// ISO 639-1 language codes.
const LANGUAGES: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh", "bi", "bm", "bn",
    "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee", "el", "en",
    "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he",
    "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv",
    "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li",
    "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne",
    "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm",
    "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "ss", "st",
    "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk",
    "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Whether `code` is an ISO 639-1 language code (lower case).
pub fn is_language_code(code: &str) -> bool {
    LANGUAGES.binary_search(&code).is_ok()
}

/// The language of an ISO 639-1 code, optionally with a region (`en`, `en-US`, `de_CH`),
/// in any case, as a lower-case code; `None` for anything else.
pub fn language_of(tag: &str) -> Option<String> {
    let mut parts = tag.splitn(2, ['-', '_']);
    let lang = parts.next().unwrap_or_default().to_ascii_lowercase();
    let region_ok = match parts.next() {
        None => true,
        Some(r) => (2..=3).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()),
    };
    (region_ok && is_language_code(&lang)).then_some(lang)
}

/// An ISO 639-1 code, optionally with a region, any case.
pub fn is_language_tag(tag: &str) -> bool {
    language_of(tag).is_some()
}

/// The language the product uses for a `preferredLanguage` value (absent: `None`):
/// its language when `supported` lists it (or, with an empty list, when it is any
/// ISO 639-1 code), else the language of `fallback`.
pub fn product_language(preferred: Option<&str>, supported: &[String], fallback: &str) -> String {
    preferred
        .and_then(language_of)
        .filter(|l| supported.is_empty() || supported.iter().any(|s| s.eq_ignore_ascii_case(l)))
        .or_else(|| language_of(fallback))
        .unwrap_or_else(|| fallback.to_ascii_lowercase())
}

/// Writes the derived language into a user's document, from its `preferredLanguage`.
pub fn set_derived(doc: &mut Value, supported: &[String], fallback: &str) {
    let preferred = doc.get("preferredLanguage").and_then(Value::as_str);
    let language = product_language(preferred, supported, fallback);
    if let Some(map) = doc.as_object_mut() {
        let mut ext = Map::new();
        ext.insert("language".into(), Value::String(language));
        map.insert(LANGUAGE_URN.to_string(), Value::Object(ext));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The visitor manager's supported codes (its integration guide, May 2019).
    fn visitor() -> Vec<String> {
        ["de", "en", "es", "fr", "it", "nl", "sk", "sl", "vi", "ko"].map(String::from).to_vec()
    }

    #[test]
    fn supported_codes_map_in_any_case_with_the_region_dropped() {
        let s = visitor();
        for (sent, used) in [
            ("en", "en"),
            ("EN", "en"),
            ("en_US", "en"),
            ("en-GB", "en"),
            ("De-ch", "de"),
            ("ko", "ko"),
            ("SL", "sl"),
            ("pt", "en"),
            ("pt-BR", "en"),
            ("ja", "en"),
            ("Brussels HQ", "en"),
            ("klingon", "en"),
            ("", "en"),
            ("en-", "en"),
            ("xx", "en"),
        ] {
            assert_eq!(product_language(Some(sent), &s, "en"), used, "{sent}");
        }
        assert_eq!(product_language(None, &s, "en"), "en");
        // No list: any ISO 639-1 language is used as it is.
        assert_eq!(product_language(Some("PT_br"), &[], "en"), "pt");
        assert_eq!(product_language(Some("Brussels HQ"), &[], "en"), "en");
        // A fallback stored with a region (profiles stored before `languages`) is its language.
        assert_eq!(product_language(Some("Brussels HQ"), &[], "en-US"), "en");
    }

    #[test]
    fn the_derived_language_sits_beside_the_value_as_sent() {
        let mut doc = json!({"userName": "a", "preferredLanguage": "Brussels HQ"});
        set_derived(&mut doc, &visitor(), "en");
        assert_eq!(doc, json!({"userName": "a", "preferredLanguage": "Brussels HQ", LANGUAGE_URN: {"language": "en"}}));
        doc["preferredLanguage"] = json!("nl-BE");
        set_derived(&mut doc, &visitor(), "en");
        assert_eq!(doc[LANGUAGE_URN]["language"], "nl");
    }

    #[test]
    fn tags() {
        assert!(is_language_tag("EN") && is_language_tag("pt_BR") && !is_language_tag("xx") && !is_language_tag(""));
        assert!(!is_language_tag("zh-Hant-TW") && is_language_tag("es-419"));
        assert!(LANGUAGES.windows(2).all(|w| w[0] < w[1]), "sorted for binary search");
    }
}
