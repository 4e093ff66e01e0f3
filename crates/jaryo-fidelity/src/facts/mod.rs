//! Extracts checkable facts ("claims") from a masked text, and decides whether the source
//! supports a draft's claim.
//!
//! Extraction runs a fixed sequence of recognisers over a working copy of the text; each one
//! blanks what it recognised, so a later, looser recogniser never re-reads it (the digits of a
//! phone number are not also numbers, the letters of a URL are not terms):
//!
//! 1. URLs with a scheme, e-mail addresses, bare domains (`web`);
//! 2. phone numbers (`phone`);
//! 3. dates, weekdays, times of day (`datetime`);
//! 4. dotted numerals such as IP addresses and versions, English number words (`number`);
//! 5. Latin words (`words`) — before digits, so `GPT-4` and `ec2` stay terms and `5km` keeps its
//!    unit;
//! 6. numbers and amounts written with digits, then numbers written in Korean words (`number`);
//! 7. Hangul words (`words`).
//!
//! The same recognisers read the source ([`Side::Source`]) and the draft ([`Side::Draft`]). On
//! the source they are generous — every reading of an ambiguous form is kept — and on the draft
//! they are strict, so an ambiguous draft item is supported when *any* reading of it is in the
//! source ([`SourceFacts`]).

mod datetime;
mod number;
mod phone;
mod pool;
mod web;
mod words;

use std::ops::Range;

pub(crate) use pool::{SourceFacts, is_content_hangul, is_content_latin};
pub(crate) use words::lowercase_latin_words;

use crate::FindingKind;

/// Which text a recogniser reads: the source is read generously, the draft strictly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Source,
    Draft,
}

/// One checkable item of a text: where it is and what it means.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Claim {
    pub(crate) range: Range<usize>,
    pub(crate) value: ClaimValue,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ClaimValue {
    /// Lower-cased, without scheme, `www.` or trailing slash.
    Url(String),
    /// Lower-cased.
    Email(String),
    /// Digits only, a country code replaced by the domestic prefix (+82 10 → 010).
    Phone(String),
    Date(DateClaim),
    /// Minutes after midnight of every reading (3시 is 03:00 and 15:00).
    Time(Vec<u16>),
    /// 0 = Monday … 6 = Sunday.
    Weekday(u8),
    Number(NumberClaim),
    /// A dotted numeral kept as written: an IP address or a version.
    Literal(String),
    /// A Latin word that could be a name or term (capitalised, an acronym, or with digits).
    Latin(String),
    /// A Hangul word (two or more syllables), particles still attached.
    Hangul(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DateClaim {
    pub(crate) year: Option<i32>,
    pub(crate) month: u8,
    pub(crate) day: Option<u8>,
    /// "1/2" may be a fraction rather than 2 January.
    pub(crate) fraction: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumberClaim {
    /// The values this item may mean; the draft side gives one, the source may give several
    /// ("3만" is 30000, and its digit 3 stays in the pool through the digit scan).
    pub(crate) values: Vec<f64>,
    /// "3.5" may be 5 March in a Korean memo.
    pub(crate) month_day: Option<(u8, u8)>,
}

impl Claim {
    pub(crate) fn finding_kind(&self) -> FindingKind {
        match self.value {
            ClaimValue::Url(_) => FindingKind::Url,
            ClaimValue::Email(_) => FindingKind::Email,
            ClaimValue::Phone(_) => FindingKind::Phone,
            ClaimValue::Date(_) | ClaimValue::Time(_) | ClaimValue::Weekday(_) => {
                FindingKind::DateTime
            }
            ClaimValue::Number(_) | ClaimValue::Literal(_) => FindingKind::Number,
            ClaimValue::Latin(_) | ClaimValue::Hangul(_) => FindingKind::Term,
        }
    }
}

/// What a recogniser found: a span to blank, and the claim it makes, if any (a lowercase
/// English word is consumed without being a claim).
pub(crate) struct Recognised {
    pub(crate) range: Range<usize>,
    pub(crate) value: Option<ClaimValue>,
}

impl Recognised {
    pub(crate) fn claim(range: Range<usize>, value: ClaimValue) -> Self {
        Self {
            range,
            value: Some(value),
        }
    }

    pub(crate) fn consumed(range: Range<usize>) -> Self {
        Self { range, value: None }
    }
}

type Recogniser = fn(&str, Side) -> Vec<Recognised>;

/// Runs every recogniser in order over `text` (a masked view), returning claims sorted by
/// position.
pub(crate) fn extract_claims(text: &str, side: Side) -> Vec<Claim> {
    const RECOGNISERS: &[Recogniser] = &[
        web::urls_with_scheme,
        web::emails,
        web::bare_domains,
        phone::phone_numbers,
        datetime::dates,
        datetime::weekdays,
        datetime::times,
        number::dotted_numerals,
        number::english_number_words,
        words::latin_words,
        number::digit_numbers,
        number::korean_number_words,
        words::hangul_words,
    ];
    let mut work = text.to_owned();
    let mut claims = Vec::new();
    for recogniser in RECOGNISERS {
        let found = recogniser(&work, side);
        for recognised in found {
            blank(&mut work, recognised.range.clone());
            if let Some(value) = recognised.value {
                claims.push(Claim {
                    range: recognised.range,
                    value,
                });
            }
        }
    }
    claims.sort_by_key(|claim| claim.range.start);
    claims
}

/// Replaces a char-boundary range with spaces of the same byte length.
fn blank(work: &mut String, range: Range<usize>) {
    let spaces = " ".repeat(range.len());
    work.replace_range(range, &spaces);
}

/// The char before byte offset `at`, if any.
pub(crate) fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

/// The char at byte offset `at`, if any.
pub(crate) fn char_at(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// Whether an ASCII token ending at `at` is not glued to a following letter or digit.
pub(crate) fn ends_token(text: &str, at: usize) -> bool {
    !char_at(text, at).is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Whether an ASCII token starting at `at` is not glued to a preceding letter or digit.
pub(crate) fn starts_token(text: &str, at: usize) -> bool {
    !char_before(text, at).is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, FindingKind)> {
        extract_claims(text, Side::Draft)
            .into_iter()
            .map(|claim| (text[claim.range.clone()].to_owned(), claim.finding_kind()))
            .collect()
    }

    #[test]
    fn each_item_is_claimed_once_by_the_most_specific_recogniser() {
        assert_eq!(
            kinds("Call 010-1234-5678 at 3pm, see https://a.io/x or mail b@c.kr"),
            vec![
                ("Call".to_owned(), FindingKind::Term),
                ("010-1234-5678".to_owned(), FindingKind::Phone),
                ("3pm".to_owned(), FindingKind::DateTime),
                ("https://a.io/x".to_owned(), FindingKind::Url),
                ("b@c.kr".to_owned(), FindingKind::Email),
            ]
        );
    }

    #[test]
    fn units_stay_with_their_number_and_terms_keep_their_digits() {
        assert_eq!(
            kinds("GPT-4 on ec2 with 5km"),
            vec![
                ("GPT-4".to_owned(), FindingKind::Term),
                ("ec2".to_owned(), FindingKind::Term),
                ("5km".to_owned(), FindingKind::Number),
            ]
        );
    }
}
