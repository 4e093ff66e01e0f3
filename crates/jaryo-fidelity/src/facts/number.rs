//! Numbers and amounts, compared by value.
//!
//! - Digits with thousands separators and decimals: `1,000` = `1000` = `1000.00`.
//! - Korean units after digits or Sino-Korean numerals: `3만` = 30000, `3만 9천원` = 39000,
//!   `1억 2천만` = 120000000, `천 원` = 1000, `삼천오백원` = 3500. A number word without digits
//!   counts only before a counter (원, 명, 개, …), so 천천히 and 백업 stay words.
//! - Native Korean numerals before a counter: `두 명` = 2, `세 개` = 3.
//! - English: `1.5k` = 1500, `$1.2M` = 1200000, `3 million`, number words `two`–`ninety-nine`,
//!   `a dozen` = 12.
//! - A unit glued to the number (`kg`, `%`, `원`, `명`, `°C`) belongs to the item's span but not
//!   to its value: units are *not* compared, so 30분 and 30% are the same number. That keeps
//!   `30,000원` ≡ `₩30,000` ≡ `30000 won` and `40킬로` ≡ `40kg` without a unit table.
//! - Dotted numerals with two or more dots (IP addresses, versions) are compared as written.
//!
//! The source side also keeps the raw digits of every amount (`3만` also yields 3) and the
//! values of words the draft side ignores (`one`, `한`, `half`, `first`), since those only widen
//! what the draft may say.

use std::sync::LazyLock;

use regex::Regex;

use super::{ClaimValue, NumberClaim, Recognised, Side, char_at, char_before};
use crate::hangul::is_syllable;
use crate::vocabulary::{KOREAN_COUNTERS, KOREAN_SUFFIXES};

static DOTTED_NUMERAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]+(?:\.[0-9]+){2,}").unwrap());

pub(super) fn dotted_numerals(text: &str, _side: Side) -> Vec<Recognised> {
    DOTTED_NUMERAL
        .find_iter(text)
        .filter(|found| {
            !char_before(text, found.start()).is_some_and(|c| c.is_ascii_alphanumeric() || c == '.')
        })
        .map(|found| {
            Recognised::claim(
                found.range(),
                ClaimValue::Literal(found.as_str().to_owned()),
            )
        })
        .collect()
}

static ENGLISH_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)",
        r"(?:[-\s](one|two|three|four|five|six|seven|eight|nine)\b)?",
        r"|(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen",
        r"|fifteen|sixteen|seventeen|eighteen|nineteen|dozen|half|couple|first|second|third",
        r"|fourth|fifth|once|twice|hundred|thousand|million|billion))",
        r"(?:\s+(hundred|thousand|million|billion))?",
    ))
    .unwrap()
});

pub(super) fn english_number_words(text: &str, side: Side) -> Vec<Recognised> {
    let mut found = Vec::new();
    for caps in ENGLISH_NUMBER.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        // "3 million" belongs to the digit recogniser, which scales the 3.
        let after_digits = text[..whole.start()]
            .trim_end_matches(' ')
            .ends_with(|c: char| c.is_ascii_digit());
        if after_digits
            && caps
                .get(3)
                .and_then(|m| word_value(m.as_str()))
                .is_some_and(|v| v >= 100.0)
        {
            continue;
        }
        let glued = char_before(text, whole.start())
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            || char_at(text, whole.end())
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if glued {
            continue;
        }
        let (base, plain_count) = if let Some(tens) = caps.get(1) {
            let units = caps
                .get(2)
                .map_or(0.0, |m| word_value(m.as_str()).unwrap_or(0.0));
            (word_value(tens.as_str()).unwrap_or(0.0) + units, true)
        } else if let Some(word) = caps.get(3) {
            let lower = word.as_str().to_lowercase();
            let value = word_value(&lower).unwrap_or(0.0);
            // "one", "half", "first", "once" and bare "hundred" are too idiomatic to be a claim
            // of the draft ("one of", "first, …"), but they still widen the source.
            let counts =
                (lower == "zero" || (2.0..100.0).contains(&value)) && !is_ordinal_or_adverb(&lower);
            (value, counts)
        } else {
            continue;
        };
        let multiplier = caps
            .get(4)
            .and_then(|m| word_value(&m.as_str().to_lowercase()))
            .unwrap_or(1.0);
        let value = base * multiplier;
        let claims = match side {
            Side::Source => true,
            Side::Draft => plain_count || caps.get(4).is_some(),
        };
        let mut values = vec![value];
        if side == Side::Source && multiplier != 1.0 {
            values.push(base);
        }
        found.push(if claims {
            Recognised::claim(whole.range(), number(values, None))
        } else {
            Recognised::consumed(whole.range())
        });
    }
    found
}

fn is_ordinal_or_adverb(word: &str) -> bool {
    matches!(
        word,
        "first" | "second" | "third" | "fourth" | "fifth" | "once" | "twice" | "couple"
    )
}

fn word_value(word: &str) -> Option<f64> {
    let value = match word.to_lowercase().as_str() {
        "zero" => 0.0,
        "one" | "first" | "once" => 1.0,
        "two" | "second" | "twice" | "couple" => 2.0,
        "three" | "third" => 3.0,
        "four" | "fourth" => 4.0,
        "five" | "fifth" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "eleven" => 11.0,
        "twelve" | "dozen" => 12.0,
        "thirteen" => 13.0,
        "fourteen" => 14.0,
        "fifteen" => 15.0,
        "sixteen" => 16.0,
        "seventeen" => 17.0,
        "eighteen" => 18.0,
        "nineteen" => 19.0,
        "twenty" => 20.0,
        "thirty" => 30.0,
        "forty" => 40.0,
        "fifty" => 50.0,
        "sixty" => 60.0,
        "seventy" => 70.0,
        "eighty" => 80.0,
        "ninety" => 90.0,
        "half" => 0.5,
        "hundred" => 100.0,
        "thousand" => 1e3,
        "million" => 1e6,
        "billion" => 1e9,
        _ => return None,
    };
    Some(value)
}

static DIGIT_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([$₩€£¥]\s?)?([0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)").unwrap()
});
static MULTIPLIER_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s+(hundred|thousand|million|billion)").unwrap());
static UNIT_TAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:%|°\s?[CF]?|[A-Za-z]+)?[가-힣]*").unwrap());

pub(super) fn digit_numbers(text: &str, side: Side) -> Vec<Recognised> {
    let mut found = Vec::new();
    let mut claimed_until = 0;
    for caps in DIGIT_NUMBER.captures_iter(text) {
        let (Some(whole), Some(digits)) = (caps.get(0), caps.get(2)) else {
            continue;
        };
        if whole.start() < claimed_until || !digits_start_a_number(text, digits.start()) {
            continue;
        }
        let Ok(raw) = digits.as_str().replace(',', "").parse::<f64>() else {
            continue;
        };
        let has_currency = caps.get(1).is_some();
        let (value, mut end) = match korean_amount(text, digits.start()) {
            Some(amount) => amount,
            None => scaled_by_suffix(text, raw, digits.end(), has_currency),
        };
        let glued_unit = UNIT_TAIL.find(&text[end..]).map_or(0, |m| m.end());
        end = if glued_unit > 0 {
            end + glued_unit
        } else {
            // "3만 원", "2 명": a counter after one space is still this number's unit.
            counter_after(text, end, end, false).unwrap_or(end)
        };
        let mut values = vec![value];
        if side == Side::Source && value != raw {
            values.push(raw);
        }
        found.push(Recognised::claim(
            whole.start()..end,
            number(values, month_day(digits.as_str())),
        ));
        claimed_until = end;
    }
    found
}

/// Digits glued to a letter belong to a word (`ec2` was claimed as a term already); a digit after
/// `x` between numbers is a dimension (`5x5`).
fn digits_start_a_number(text: &str, at: usize) -> bool {
    match char_before(text, at) {
        Some('x' | 'X') => {
            let before_x = &text[..at - 1];
            before_x.ends_with(|c: char| c.is_ascii_digit())
        }
        Some(c) => !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_')),
        None => true,
    }
}

/// Applies `k`, `M`/`B` after a currency, or a following "million"-style word.
fn scaled_by_suffix(text: &str, raw: f64, end: usize, has_currency: bool) -> (f64, usize) {
    let rest = &text[end..];
    let letter_after = |skip: usize| {
        rest[skip..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
    };
    let suffixes: &[(&str, f64)] = if has_currency {
        &[
            ("bn", 1e9),
            ("k", 1e3),
            ("K", 1e3),
            ("M", 1e6),
            ("m", 1e6),
            ("B", 1e9),
        ]
    } else {
        &[("k", 1e3), ("K", 1e3)]
    };
    for (suffix, factor) in suffixes {
        if rest.starts_with(suffix) && !letter_after(suffix.len()) {
            return (raw * factor, end + suffix.len());
        }
    }
    if let Some(caps) = MULTIPLIER_WORD.captures(rest)
        && let (Some(whole), Some(word)) = (caps.get(0), caps.get(1))
        && let Some(factor) = word_value(word.as_str())
        && !letter_after(whole.end())
    {
        return (raw * factor, end + whole.end());
    }
    (raw, end)
}

/// "3.5" may be 5 March (Korean memos write dates that way).
fn month_day(digits: &str) -> Option<(u8, u8)> {
    let (month, day) = digits.split_once('.')?;
    let month: u8 = month.parse().ok()?;
    let day: u8 = day.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day) && day.to_string().len() <= 2)
        .then_some((month, day))
}

const SINO_DIGITS: &str = "영일이삼사오육칠팔구";

fn small_unit(c: char) -> Option<f64> {
    match c {
        '십' => Some(10.0),
        '백' => Some(100.0),
        '천' => Some(1e3),
        _ => None,
    }
}

fn big_unit(c: char) -> Option<f64> {
    match c {
        '만' => Some(1e4),
        '억' => Some(1e8),
        '조' => Some(1e12),
        _ => None,
    }
}

static LEADING_DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?").unwrap());

/// Parses a Korean amount starting at `start` (digits or Sino-Korean numerals mixed with
/// 십/백/천/만/억/조, one space allowed after 만/억/조). `None` unless a unit was used.
fn korean_amount(text: &str, start: usize) -> Option<(f64, usize)> {
    let mut total = 0.0;
    let mut section = 0.0;
    let mut current: Option<f64> = None;
    let mut used_unit = false;
    let mut after_big_unit = false;
    let mut pos = start;
    let mut end = start;
    loop {
        let rest = &text[pos..];
        if let Some(digits) = LEADING_DIGITS.find(rest) {
            if current.is_some() {
                break;
            }
            current = Some(digits.as_str().replace(',', "").parse().ok()?);
            pos += digits.end();
            end = pos;
            after_big_unit = false;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        let next = rest[c.len_utf8()..].chars().next();
        if c == ' ' && after_big_unit {
            let continues = next.is_some_and(|n| {
                n.is_ascii_digit() || SINO_DIGITS.contains(n) || small_unit(n).is_some()
            });
            if !continues {
                break;
            }
            pos += 1;
            after_big_unit = false;
            continue;
        }
        if let Some(digit) = SINO_DIGITS.chars().position(|d| d == c) {
            let before_unit =
                next.is_some_and(|n| small_unit(n).is_some() || big_unit(n).is_some());
            if current.is_some() || !before_unit {
                break;
            }
            current = Some(digit as f64);
        } else if let Some(unit) = small_unit(c) {
            section += current.take().unwrap_or(1.0) * unit;
            used_unit = true;
        } else if let Some(unit) = big_unit(c) {
            // 만큼 is "as much as"; 2조 is usually "team 2" unless money follows.
            let idiom = c == '만' && next == Some('큼');
            let after_unit = &rest[c.len_utf8()..];
            let money_follows = after_unit.starts_with(|n: char| n.is_ascii_digit() || n == '원')
                || after_unit
                    .strip_prefix(' ')
                    .is_some_and(|more| more.starts_with(|n: char| n.is_ascii_digit()));
            let not_money = c == '조' && !money_follows;
            if idiom || not_money {
                break;
            }
            let group = section
                + current
                    .take()
                    .unwrap_or(if section == 0.0 { 1.0 } else { 0.0 });
            total += group * unit;
            section = 0.0;
            used_unit = true;
            after_big_unit = true;
            pos += c.len_utf8();
            end = pos;
            continue;
        } else {
            break;
        }
        after_big_unit = false;
        pos += c.len_utf8();
        end = pos;
    }
    used_unit.then(|| (total + section + current.unwrap_or(0.0), end))
}

static HANGUL_RUN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[가-힣]+").unwrap());

/// Native Korean numerals, longest first so 열두 is not read as 열.
#[rustfmt::skip]
const NATIVE_NUMERALS: &[(&str, f64)] = &[
    ("다섯", 5.0), ("여섯", 6.0), ("일곱", 7.0), ("여덟", 8.0), ("아홉", 9.0), ("열한", 11.0),
    ("열두", 12.0), ("스무", 20.0), ("하나", 1.0), ("한", 1.0), ("두", 2.0), ("세", 3.0),
    ("네", 4.0), ("둘", 2.0), ("셋", 3.0), ("넷", 4.0), ("열", 10.0), ("반", 0.5),
];

/// Counters that may be glued to a native numeral without a space (두명, 한판). Others need the
/// space, because 세대, 두부 or 한국 are words of their own.
const GLUED_COUNTERS: &[&str] = &[
    "개", "명", "번", "잔", "병", "마리", "시간", "달", "살", "권", "장", "판", "컵", "포기",
];

/// Native ordinals: 첫날, 둘째 주, 셋째.
#[rustfmt::skip]
const ORDINALS: &[(&str, f64)] = &[
    ("다섯째", 5.0), ("여섯째", 6.0), ("일곱째", 7.0), ("여덟째", 8.0), ("아홉째", 9.0), ("첫째", 1.0),
    ("둘째", 2.0), ("셋째", 3.0), ("넷째", 4.0), ("열째", 10.0), ("첫", 1.0),
];

pub(super) fn korean_number_words(text: &str, side: Side) -> Vec<Recognised> {
    let mut found = Vec::new();
    for run in HANGUL_RUN.find_iter(text) {
        let word = run.as_str();
        if let Some((ordinal, value)) = ORDINALS
            .iter()
            .find(|(ordinal, _)| word.starts_with(ordinal))
        {
            let range = run.start()..run.start() + ordinal.len();
            found.push(if *value == 1.0 && side == Side::Draft {
                Recognised::consumed(range)
            } else {
                Recognised::claim(range, number(vec![*value], None))
            });
            continue;
        }
        let numeral_prefix: usize = word
            .chars()
            .take_while(|&c| {
                SINO_DIGITS.contains(c) || small_unit(c).is_some() || big_unit(c).is_some()
            })
            .map(char::len_utf8)
            .sum();
        let has_multiplier = word[..numeral_prefix]
            .chars()
            .any(|c| small_unit(c).is_some() || c == '만' || c == '억');
        if has_multiplier
            && let Some((value, numeral_end)) = korean_amount(text, run.start())
            && let Some(counter_end) = counter_after(text, numeral_end, run.end(), false)
        {
            found.push(Recognised::claim(
                run.start()..counter_end,
                number(vec![value], None),
            ));
            continue;
        }
        for (numeral, value) in NATIVE_NUMERALS {
            if !word.starts_with(numeral) {
                continue;
            }
            let numeral_end = run.start() + numeral.len();
            if let Some(counter_end) = counter_after(text, numeral_end, run.end(), true) {
                let idiomatic = *value == 1.0 && side == Side::Draft;
                found.push(if idiomatic {
                    Recognised::consumed(run.start()..counter_end)
                } else {
                    Recognised::claim(run.start()..counter_end, number(vec![*value], None))
                });
            } else if side == Side::Source && word == *numeral && numeral.chars().count() > 1 {
                // 사과 하나, 둘 — standalone counting words widen the source only.
                found.push(Recognised::claim(run.range(), number(vec![*value], None)));
            }
            break;
        }
    }
    found
}

/// End of a counter that follows a numeral ending at `at`: glued within the same Hangul run
/// (`run_end` is where the run stops), or as the start of the next word after one space. The
/// rest of the counter's word must be a particle (두 명이, 천 원짜리), so 네 일정 ("your
/// schedule") is not four days.
fn counter_after(text: &str, at: usize, run_end: usize, native: bool) -> Option<usize> {
    let (from, candidates): (usize, &[&str]) = if at < run_end {
        (
            at,
            if native {
                GLUED_COUNTERS
            } else {
                KOREAN_COUNTERS
            },
        )
    } else if text[at..].starts_with(' ') {
        (at + 1, KOREAN_COUNTERS)
    } else {
        return None;
    };
    let word_end = from
        + text[from..]
            .char_indices()
            .find(|&(_, c)| !is_syllable(c))
            .map_or(text.len() - from, |(offset, _)| offset);
    let mut sorted = candidates.to_vec();
    sorted.sort_by_key(|counter| std::cmp::Reverse(counter.len()));
    sorted
        .into_iter()
        .filter(|counter| text[from..].starts_with(counter))
        .map(|counter| from + counter.len())
        .find(|&counter_end| is_particle_tail(&text[counter_end..word_end]))
}

/// What may follow a counter in the same word: nothing, a particle or ending, or a quantity
/// suffix such as 짜리, 씩, 째, 쯤 (optionally followed by a particle).
fn is_particle_tail(rest: &str) -> bool {
    const QUANTITY_SUFFIXES: &[&str] = &[
        "짜리", "씩", "째", "쯤", "정도", "가량", "이상", "이하", "이내", "까지", "부터", "씩만",
    ];
    let is_suffix = |tail: &str| tail.is_empty() || KOREAN_SUFFIXES.contains(&tail);
    is_suffix(rest)
        || QUANTITY_SUFFIXES
            .iter()
            .any(|quantity| rest.strip_prefix(quantity).is_some_and(is_suffix))
}

fn number(values: Vec<f64>, month_day: Option<(u8, u8)>) -> ClaimValue {
    ClaimValue::Number(NumberClaim { values, month_day })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Side, extract_claims};

    /// Values of the number claims in `text`, read as a draft.
    fn values(text: &str) -> Vec<f64> {
        extract_claims(text, Side::Draft)
            .into_iter()
            .filter_map(|claim| match claim.value {
                ClaimValue::Number(number) => Some(number.values[0]),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn thousands_separators_and_decimals() {
        assert_eq!(
            values("1,000 1000 1000.00 $1,200.50"),
            [1000.0, 1000.0, 1000.0, 1200.5]
        );
    }

    #[test]
    fn korean_units() {
        assert_eq!(values("3만 원"), [30000.0]);
        assert_eq!(values("30,000원"), [30000.0]);
        assert_eq!(values("3만 9천원"), [39000.0]);
        assert_eq!(values("8만5천"), [85000.0]);
        assert_eq!(values("1억 2천만 원"), [120_000_000.0]);
        assert_eq!(values("5천km"), [5000.0]);
        assert_eq!(values("1.5만"), [15000.0]);
    }

    #[test]
    fn korean_number_words_before_counters() {
        assert_eq!(values("천 원"), [1000.0]);
        assert_eq!(values("삼천오백원"), [3500.0]);
        assert_eq!(values("만 원"), [10000.0]);
        assert_eq!(values("두 명, 세 개"), [2.0, 3.0]);
        assert_eq!(values("두명"), [2.0]);
        assert_eq!(values("둘째 날, 셋째 주"), [2.0, 3.0]);
    }

    #[test]
    fn korean_words_that_only_look_like_numbers() {
        assert!(values("천천히 백업 만들기 조금 세대 두부 한국 세계 네 알겠습니다").is_empty());
        assert!(
            values("2조 발표").len() == 1,
            "2조 is team 2, not two trillion"
        );
        assert_eq!(values("2조 발표"), [2.0]);
        assert_eq!(values("10만큼"), [10.0]);
    }

    #[test]
    fn english_suffixes_and_words() {
        assert_eq!(values("1.5k"), [1500.0]);
        assert_eq!(values("$1.2M"), [1_200_000.0]);
        assert_eq!(values("3 million"), [3_000_000.0]);
        assert_eq!(values("twenty-five people"), [25.0]);
        assert_eq!(values("two hundred"), [200.0]);
        assert!(values("one of them, first of all").is_empty());
        assert_eq!(values("zero rollbacks"), [0.0]);
    }

    #[test]
    fn units_are_part_of_the_span() {
        let text = "고기 3kg, 87%에, 40킬로, 3만 원이, 2 명";
        let claims = extract_claims(text, Side::Draft);
        let spans: Vec<&str> = claims.iter().map(|c| &text[c.range.clone()]).collect();
        assert_eq!(spans, ["고기", "3kg", "87%에", "40킬로", "3만 원", "2 명"]);
    }

    #[test]
    fn dimensions_and_dotted_numerals() {
        assert_eq!(values("5x5"), [5.0, 5.0]);
        let claims = extract_claims("10.0.3.17 and 1.24.0", Side::Draft);
        assert!(
            claims
                .iter()
                .all(|c| matches!(c.value, ClaimValue::Literal(_)))
        );
        assert_eq!(claims.len(), 2);
    }
}
