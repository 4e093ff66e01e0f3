//! Phone numbers: international (+82 10-…, +1 (555) …), Korean domestic (010-…, 02-…, 1588-…),
//! North American (555-123-4567, (555) 123-4567, 1-800-555-0199). Separators are required except for Korean
//! mobile numbers written as eleven digits, so dates, versions and amounts are not phones.
//!
//! The key is the digits, with a country code replaced by the domestic prefix, so
//! `+82 10-1234-5678` and `010 1234 5678` are one number.

use std::sync::LazyLock;

use regex::Regex;

use super::{ClaimValue, Recognised, Side, char_at, char_before};

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\+[0-9]{1,3}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,4}(?:[ .-][0-9]{2,4}){1,3}",
        r"|1[ .-][0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4}",
        r"|\([0-9]{2,4}\)[ .-]?[0-9]{3,4}[ .-][0-9]{4}",
        r"|0[0-9]{1,2}[ .-][0-9]{3,4}[ .-][0-9]{4}",
        r"|[0-9]{3}[.-][0-9]{3}[.-][0-9]{4}",
        r"|1[5-9][0-9]{2}-[0-9]{4}",
        r"|01[016789][0-9]{7,8}",
    ))
    .unwrap()
});

pub(super) fn phone_numbers(text: &str, _side: Side) -> Vec<Recognised> {
    PHONE
        .find_iter(text)
        .filter(|found| {
            let glued_before = char_before(text, found.start())
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/' | ':'));
            let glued_after = char_at(text, found.end())
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | ':'))
                || text[found.end()..]
                    .strip_prefix('.')
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
            let digits = found.as_str().chars().filter(char::is_ascii_digit).count();
            !glued_before && !glued_after && digits >= 8
        })
        .map(|found| Recognised::claim(found.range(), ClaimValue::Phone(phone_key(found.as_str()))))
        .collect()
}

fn phone_key(written: &str) -> String {
    let digits: String = written.chars().filter(char::is_ascii_digit).collect();
    let north_american_trunk = digits.len() == 11 && written.starts_with('1');
    if !written.trim_start().starts_with('+') && !north_american_trunk {
        return digits;
    }
    if let Some(national) = digits.strip_prefix("82") {
        let national = national.strip_prefix('0').unwrap_or(national);
        return format!("0{national}");
    }
    match digits.strip_prefix('1') {
        Some(national) if national.len() == 10 => national.to_owned(),
        _ => digits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phones(text: &str) -> Vec<String> {
        phone_numbers(text, Side::Draft)
            .into_iter()
            .filter_map(|r| match r.value {
                Some(ClaimValue::Phone(key)) => Some(key),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn country_codes_become_domestic_prefixes() {
        assert_eq!(phones("+82 10-1234-5678"), ["01012345678"]);
        assert_eq!(phones("010 1234 5678"), ["01012345678"]);
        assert_eq!(phones("+1 (555) 284-1937"), ["5552841937"]);
        assert_eq!(phones("(555) 284-1937"), ["5552841937"]);
        assert_eq!(phones("1-800-935-9935"), ["8009359935"]);
    }

    #[test]
    fn dates_versions_and_amounts_are_not_phones() {
        assert!(phones("2024-03-05 2024.12.31 1.24.0 45,000 10:00-11:00").is_empty());
    }

    #[test]
    fn korean_numbers_are_found() {
        assert_eq!(
            phones("02-555-0123, 1588-1234, 01023456789"),
            ["025550123", "15881234", "01023456789"]
        );
    }
}
