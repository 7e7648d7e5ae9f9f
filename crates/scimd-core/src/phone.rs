//! Phone numbers as a profile checks them (`phone_numbers_e164`): every number must be
//! written in E.164 form, and a number of type `mobile` must not be a landline.
//!
//! The two checks are deliberately different. E.164 is a *format* (a `+`, a country code
//! and at most 15 digits in all): a desk number in that form is accepted whether or not
//! any numbering plan allocates it, since a product that only shows the number has no way
//! to know better (the visitor manager's own sample, `+44007007007`, is such a number).
//! A mobile number is used to send text messages, so it is also looked up in
//! libphonenumber's metadata (the `phonenumber` crate): one the metadata places as a
//! landline or another fixed service is refused. A number the metadata cannot place
//! (unallocated, or a type that may be either, as North America's) is not a landline and
//! passes, as a lookup service would let it through.

use phonenumber::Type;

use crate::error::ScimError;

/// The most digits an E.164 number has (ITU-T E.164 §6).
const MAX_DIGITS: usize = 15;

/// Whether `value` is written in E.164 form: `+`, a country code that does not start with
/// 0, and at most 15 digits in all, nothing else.
pub fn is_e164(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else { return false };
    (2..=MAX_DIGITS).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0')
}

/// Number types that are landlines or fixed services: none of them receives the text
/// messages a mobile number is for.
fn is_landline(t: Type) -> bool {
    matches!(t, Type::FixedLine | Type::TollFree | Type::PremiumRate | Type::SharedCost | Type::Uan | Type::Voicemail)
}

/// Checks a phone number of the given `type` (`mobile` or anything else).
pub fn check(value: &str, kind: &str) -> Result<(), ScimError> {
    let bad = |why: &str| ScimError::invalid_value(format!("phone number '{value}' {why}"));
    if !is_e164(value) {
        return Err(bad(
            "is not in E.164 form (a '+', the country code and the number, digits only, at most 15 digits)",
        ));
    }
    if !kind.eq_ignore_ascii_case("mobile") {
        return Ok(());
    }
    if let Ok(parsed) = phonenumber::parse(None, value)
        && phonenumber::is_valid(&parsed)
        && is_landline(parsed.number_type(&phonenumber::metadata::DATABASE))
    {
        return Err(bad("is of type 'mobile' but is not a mobile number: it is a landline"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_numbers_need_the_format_only() {
        // The visitor manager's own sample: E.164 in form, allocated to nobody.
        assert!(check("+44007007007", "work").is_ok());
        assert!(check("+442071838750", "work").is_ok(), "a London landline");
        assert!(check("+4412", "work").is_ok(), "short, but in form");
        assert!(check("+999123", "other").is_ok(), "an unassigned country code is still the form");
        for (n, why) in [
            ("+44 20 7183 8750", "spaces"),
            ("020 7183 8750", "no +"),
            ("07911123456", "national form"),
            ("+0441234", "a country code starting with 0"),
            ("+1234567890123456", "16 digits"),
            ("+", "nothing"),
            ("+44-20-7183", "dashes"),
            ("", "empty"),
        ] {
            let e = check(n, "work").unwrap_err();
            assert!(e.detail.contains("E.164"), "{why}: {}", e.detail);
            assert_eq!(e.status, 400);
        }
    }

    #[test]
    fn mobile_numbers_must_not_be_landlines() {
        assert!(check("+447911123456", "mobile").is_ok(), "UK mobile");
        assert!(check("+33612345678", "Mobile").is_ok(), "French mobile, type in any case");
        assert!(check("+14155552671", "mobile").is_ok(), "US: fixed line or mobile");
        assert!(check("+44007007007", "mobile").is_ok(), "the guide's sample: no landline as far as anyone knows");
        for n in ["+442071838750", "+448001234567"] {
            let e = check(n, "mobile").unwrap_err();
            assert!(e.detail.contains("not a mobile number"), "{n}: {}", e.detail);
        }
        assert!(check("+44 7911 123456", "mobile").unwrap_err().detail.contains("E.164"));
    }

    #[test]
    fn the_form_is_plus_then_2_to_15_digits() {
        assert!(is_e164("+12") && is_e164("+123456789012345"));
        assert!(!is_e164("+1") && !is_e164("+1234567890123456") && !is_e164("12345") && !is_e164("+1２3"));
    }
}
