//! What makes two userNames the same name, and which userNames are refused: the one rule
//! behind a tenant's uniqueness of userNames, the attribute index and filters on
//! `userName`, `/Me`, users addressed by userName, the sync client's matching, and the
//! store's recomputation of the keys it keeps.
//!
//! **The same name.** Two names are the same when their [`key`]s are equal: white space
//! trimmed at both ends, then the Unicode *compatibility caseless match* (The Unicode
//! Standard, definition D146): `NFKC(toCasefold(NFKC(toCasefold(NFD(x)))))` with full case
//! folding. So `straße` = `STRASSE`, a composed `café` = a decomposed one, `ＡＤＭＩＮ`
//! (full width) = `admin`, `ﬁnn` = `finn`. PRECIS UsernameCaseMapped (RFC 8265) was not
//! taken: it maps case with toLowerCase, so `straße` and `STRASSE` stay two names, and it
//! refuses spaces and symbols that identity providers do send in userNames.
//!
//! **Refused.** A name a client writes may not hold control characters (NUL included),
//! invisible formatting characters (zero-width space and joiners, soft hyphen, byte order
//! mark, bidirectional controls, every other default-ignorable code point), line or
//! paragraph separators, private-use characters, or code points Unicode does not assign
//! (refusing those keeps a stored key stable when a later Unicode version assigns them).
//! Leading and trailing white space is trimmed from what is stored, as identity providers
//! send trimmed names anyway.
//!
//! A name stored before these rules, sent again unchanged, is accepted as it is
//! ([`settle`]): the rule never blocks an update (say, a deactivation) of a user that
//! already exists; the store reports such names to the operator.

use std::borrow::Cow;

use icu_casemap::CaseMapper;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use serde_json::Value;

use crate::error::{ScimError, ScimResult};

/// The name as compared (not trimmed): the compatibility caseless form of `s`. Filters
/// compare their `userName` literals in this form.
pub fn fold(s: &str) -> String {
    let nfd = DecomposingNormalizerBorrowed::new_nfd();
    let nfkc = ComposingNormalizerBorrowed::new_nfkc();
    let case = CaseMapper::new();
    let once: Cow<'_, str> = case.fold_string(&nfd.normalize(s)).into_owned().into();
    let twice = case.fold_string(&nfkc.normalize(&once)).into_owned();
    nfkc.normalize(&twice).into_owned()
}

/// The key of a userName: two names are the same name exactly when their keys are equal.
/// It is what a tenant's uniqueness, the attribute index and lookups by name compare.
pub fn key(name: &str) -> String {
    fold(name.trim())
}

/// Why a character may not be part of a userName, if it may not.
pub fn refusal(c: char) -> Option<&'static str> {
    let gc = CodePointMapData::<GeneralCategory>::new().get(c);
    Some(match gc {
        GeneralCategory::Control => "a control character",
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => "a line or paragraph separator",
        GeneralCategory::PrivateUse => "a private-use character",
        GeneralCategory::Unassigned => "a code point Unicode does not assign",
        GeneralCategory::Surrogate => "a surrogate",
        _ if gc == GeneralCategory::Format || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c) => {
            "an invisible formatting character (such as a zero-width space or joiner, a soft hyphen or a byte order \
             mark)"
        }
        _ => return None,
    })
}

/// The first character of `name` that may not be part of a userName: its position (in
/// characters, from 1), the character and why.
pub fn first_refused(name: &str) -> Option<(usize, char, &'static str)> {
    name.chars().enumerate().find_map(|(i, c)| refusal(c).map(|why| (i + 1, c, why)))
}

/// Checks a userName a client writes and returns it trimmed. Errors: 400 `invalidValue`
/// naming the offending code point.
pub fn check(name: &str) -> ScimResult<&str> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(ScimError::invalid_value("'userName' is blank: send the user's name"));
    }
    if let Some((pos, c, why)) = first_refused(trimmed) {
        return Err(ScimError::invalid_value(format!(
            "'userName' {trimmed:?} holds U+{:04X}, {why}, at character {pos}: a userName may not hold control, \
             invisible or unassigned characters; send the name without it",
            c as u32
        )));
    }
    Ok(trimmed)
}

/// Checks the userName of a user's new document (`stored`: its document before the
/// write, none for a new user) and stores it trimmed. A name identical to the stored one
/// is kept as it is, whatever it holds.
pub fn settle(doc: &mut Value, stored: Option<&Value>) -> ScimResult<()> {
    let Some(Value::String(name)) = doc.get("userName") else { return Ok(()) };
    if stored.and_then(|s| s.get("userName")).and_then(Value::as_str) == Some(name.as_str()) {
        return Ok(());
    }
    let trimmed = check(name)?;
    if trimmed.len() != name.len() {
        doc["userName"] = Value::String(trimmed.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_same_name() {
        for (a, b) in [
            ("straße", "STRASSE"),
            ("café", "cafe\u{301}"),
            ("admin", "ＡＤＭＩＮ"),
            ("ﬁnn", "FINN"),
            ("Ǆemal", "džemal"),
            ("ΌΣΟΣ", "όσος"),
            ("ὈΔΥΣΣΕΎΣ", "ὀδυσσεύς"),
            ("  ada ", "ADA"),
            ("john\u{a0}smith", "john smith"),
            ("Ⅻ", "xii"),
            ("ǰ", "J\u{30c}"),
        ] {
            assert_eq!(key(a), key(b), "{a:?} and {b:?}");
        }
        for (a, b) in [("ada", "adb"), ("john smith", "johnsmith"), ("a.b", "a_b"), ("ı", "i")] {
            assert_ne!(key(a), key(b), "{a:?} and {b:?}");
        }
    }

    #[test]
    fn refused_characters() {
        for (name, cp) in [
            ("ad\u{0}min", "U+0000"),
            ("ad\u{200B}min", "U+200B"),
            ("ad\u{200D}min", "U+200D"),
            ("\u{FEFF}admin", "U+FEFF"),
            ("ad\u{AD}min", "U+00AD"),
            ("ad\tmin", "U+0009"),
            ("ad\u{202E}nim", "U+202E"),
            ("ad\u{2028}min", "U+2028"),
            ("ad\u{E000}min", "U+E000"),
            ("ad\u{FE0F}min", "U+FE0F"),
            ("ad\u{34F}min", "U+034F"),
            ("ad\u{E0041}min", "U+E0041"),
            ("ad\u{378}min", "U+0378"),
        ] {
            let e = check(name).unwrap_err();
            assert_eq!(e.status, 400);
            assert_eq!(e.scim_type, Some(crate::ScimType::InvalidValue));
            assert!(e.detail.contains(cp), "{name:?}: {}", e.detail);
        }
        assert!(check("   ").is_err());
        for ok in ["ada", "Ada Lovelace", "ada@example.com", "d'Artagnan", "José", "张伟", "ⓐⓓⓐ", "😀"] {
            assert_eq!(check(ok).unwrap(), ok);
        }
        assert_eq!(check(" ada\n").unwrap(), "ada");
    }

    #[test]
    fn settle_trims_and_keeps_a_stored_name() {
        let mut doc = json!({"userName": "  ada  "});
        settle(&mut doc, None).unwrap();
        assert_eq!(doc["userName"], "ada");
        let old = json!({"userName": "a\u{200B}da"});
        let mut same = old.clone();
        settle(&mut same, Some(&old)).unwrap();
        assert_eq!(same, old);
        let mut other = json!({"userName": "b\u{200B}ob"});
        assert!(settle(&mut other, Some(&old)).is_err());
    }

    fn name() -> impl Strategy<Value = String> {
        // Letters with case pairs and compatibility forms, marks, spaces and a few
        // characters that fold to several.
        let pieces = prop::sample::select(vec![
            "a", "A", "ß", "SS", "ss", "ẞ", "é", "e\u{301}", "É", "Ａ", "ａ", "ﬁ", "fi", "İ", "i\u{307}", "Σ", "σ",
            "ς", "ǅ", "Ǆ", "ǆ", " ", "\u{a0}", "1", "１", "@", ".", "ᾼ", "ᾳ", "\u{345}", "K", "\u{212A}", "Å",
            "\u{212B}", "Ω", "\u{2126}",
        ]);
        prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
    }

    proptest! {
        /// The key is a fixed point: the key of a key is itself, and so a name and its key
        /// are the same name.
        #[test]
        fn key_is_idempotent(s in name()) {
            let k = key(&s);
            prop_assert_eq!(key(&k), k);
        }

        /// Case does not matter: upper, lower and case-folded forms are the same name.
        #[test]
        fn case_never_matters(s in name()) {
            let k = key(&s);
            prop_assert_eq!(key(&s.to_uppercase()), k.clone());
            prop_assert_eq!(key(&s.to_lowercase()), k);
        }

        /// Normalization forms do not matter.
        #[test]
        fn normalization_never_matters(s in name()) {
            let nfd = DecomposingNormalizerBorrowed::new_nfd().normalize(&s).into_owned();
            let nfc = ComposingNormalizerBorrowed::new_nfc().normalize(&s).into_owned();
            prop_assert_eq!(key(&nfd), key(&s));
            prop_assert_eq!(key(&nfc), key(&s));
        }

        /// Whatever a check lets through is stored trimmed and holds no refused character.
        #[test]
        fn checked_names_are_clean(s in "\\PC{0,12}") {
            if let Ok(t) = check(&s) {
                prop_assert_eq!(t, t.trim());
                prop_assert!(first_refused(t).is_none());
            }
        }
    }
}
