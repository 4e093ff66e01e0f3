//! Dates, weekdays and times of day.
//!
//! Dates are read as (year?, month, day?):
//! - `2024-03-05`, `2024.3.5`, `2024. 3. 5.`, `2024/03/05` — full dates;
//! - `2024년 3월 5일`, `24년 3월`, `3월 5일`, `3월` — Korean, two-digit years are 20xx;
//! - `3/5`, `3/5/2024` — month first (the memo's language does not change that: Korean memos
//!   write 3/5 for 5 March too); a slash pair also keeps its fraction value (`1/2` cup);
//! - `March 5`, `Mar 5, 2024`, `5 March 2024`, `March 2024`, `March` — English; on the draft
//!   side the month must be capitalised, and `May` or an abbreviation needs a day or year.
//!
//! So `2024년 3월 5일` ≡ `2024-03-05`, and `3/5` ≡ `3월 5일` ≡ `March 5` when no year is given.
//!
//! Times are minutes after midnight: `14:30`, `2:30 PM`, `3pm`, `오후 3시 30분`, `3시 반`,
//! `세 시`, `정오`. A time without a period (`3시`, `3:00`) is read both as morning and
//! afternoon, because Korean memos say 3시 for 15:00; `오후`/`PM` and friends fix the reading.
//!
//! Weekdays: `Monday`/`Mon`, `월요일`, and single-syllable weekdays in parentheses or lists
//! (`(토)`, `(월, 목)`, `월/수/금`).

use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::{ClaimValue, DateClaim, Recognised, Side, char_at, char_before};
use crate::hangul::is_syllable;

static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([0-9]{4}) *[-./] *([0-9]{1,2}) *[-./] *([0-9]{1,2})\.?").unwrap()
});
static KOREAN_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:([0-9]{4}|[0-9]{2})\s*년\s*)?([0-9]{1,2})\s*월(?:\s*([0-9]{1,2})\s*일)?")
        .unwrap()
});
static SLASH_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{4}|[0-9]{2}))?").unwrap());
static ENGLISH_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:([0-9]{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?)?",
        r"(january|february|march|april|may|june|july|august|september|october|november|december",
        r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)(\.?)",
        r"(?:,?\s+([0-9]{4})|\s+([0-9]{1,2})(?:st|nd|rd|th)?(?:,?\s+([0-9]{4}))?)?",
    ))
    .unwrap()
});

pub(super) fn dates(text: &str, side: Side) -> Vec<Recognised> {
    let mut found = Vec::new();
    let mut taken: Vec<std::ops::Range<usize>> = Vec::new();
    let mut push = |found: &mut Vec<Recognised>, range: std::ops::Range<usize>, date: DateClaim| {
        if taken
            .iter()
            .any(|t| t.start < range.end && range.start < t.end)
        {
            return;
        }
        taken.push(range.clone());
        found.push(Recognised::claim(range, ClaimValue::Date(date)));
    };

    for caps in NUMERIC_DATE.captures_iter(text) {
        let whole = caps.get(0).map(|m| m.range()).unwrap_or_default();
        if glued_digit_before(text, whole.start) || glued_digit_after(text, whole.end) {
            continue;
        }
        if let Some(date) = full_date(number(&caps, 1), number(&caps, 2), number(&caps, 3)) {
            push(&mut found, whole, date);
        }
    }
    for caps in KOREAN_DATE.captures_iter(text) {
        let whole = caps.get(0).map(|m| m.range()).unwrap_or_default();
        if glued_digit_before(text, whole.start) {
            continue;
        }
        let year = caps.get(1).map(|m| expand_year(m.as_str()));
        let Some(month) = valid_month(number(&caps, 2)) else {
            continue;
        };
        let day = match caps.get(3) {
            Some(_) => match valid_day(number(&caps, 3)) {
                Some(day) => Some(day),
                None => continue,
            },
            None => None,
        };
        push(
            &mut found,
            whole,
            DateClaim {
                year,
                month,
                day,
                fraction: None,
            },
        );
    }
    for caps in SLASH_DATE.captures_iter(text) {
        let whole = caps.get(0).map(|m| m.range()).unwrap_or_default();
        let glued = char_before(text, whole.start)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '/')
            || char_at(text, whole.end).is_some_and(|c| c.is_ascii_digit() || c == '/');
        if glued {
            continue;
        }
        let (first, second) = (number(&caps, 1), number(&caps, 2));
        let fraction = (second != 0).then(|| f64::from(first) / f64::from(second));
        match (valid_month(first), valid_day(second)) {
            (Some(month), Some(day)) => {
                let year = caps.get(3).map(|m| expand_year(m.as_str()));
                push(
                    &mut found,
                    whole,
                    DateClaim {
                        year,
                        month,
                        day: Some(day),
                        fraction: if year.is_some() { None } else { fraction },
                    },
                );
            }
            // Not a date ("24/7", "3/16" as a fraction of 16): keep it as a number.
            _ => {
                if let Some(value) = fraction {
                    found.push(Recognised::claim(
                        whole,
                        ClaimValue::Number(super::NumberClaim {
                            values: vec![value],
                            month_day: None,
                        }),
                    ));
                }
            }
        }
    }
    for caps in ENGLISH_DATE.captures_iter(text) {
        if let Some((range, date)) = english_date(text, &caps, side) {
            push(&mut found, range, date);
        }
    }
    found
}

fn english_date(
    text: &str,
    caps: &Captures<'_>,
    side: Side,
) -> Option<(std::ops::Range<usize>, DateClaim)> {
    let whole = caps.get(0)?;
    let name = caps.get(2)?;
    let letter_before = char_before(text, name.start()).is_some_and(|c| c.is_ascii_alphabetic());
    let letter_after = char_at(text, name.end()).is_some_and(|c| c.is_ascii_alphabetic());
    if letter_before || letter_after || glued_digit_after(text, whole.end()) {
        return None;
    }
    let leading_day = caps.get(1).map(|m| m.as_str());
    let year = caps.get(4).or(caps.get(6)).map(|m| expand_year(m.as_str()));
    let trailing_day = caps.get(5).map(|m| m.as_str());
    let day_text = leading_day.or(trailing_day);
    let month_name = name.as_str().to_lowercase();
    let month = month_number(&month_name)?;
    let capitalised = name.as_str().starts_with(|c: char| c.is_ascii_uppercase());
    if side == Side::Draft && !capitalised {
        return None;
    }
    let ambiguous_word = month_name == "may"
        || month_name.len() <= 4 && month_name != "june" && month_name != "july";
    if ambiguous_word && day_text.is_none() && year.is_none() {
        return None;
    }
    let day = match day_text {
        Some(day) => Some(valid_day(day.parse().ok()?)?),
        None => None,
    };
    // A lone leading number belongs to the month only when a day is not also trailing.
    let start = if leading_day.is_some() {
        whole.start()
    } else {
        name.start()
    };
    Some((
        start..whole.end(),
        DateClaim {
            year,
            month,
            day,
            fraction: None,
        },
    ))
}

fn month_number(name: &str) -> Option<u8> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let prefix = name.get(..3)?;
    MONTHS
        .iter()
        .position(|month| *month == prefix)
        .and_then(|index| u8::try_from(index + 1).ok())
}

static ENGLISH_WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(monday|tuesday|wednesday|thursday|friday|saturday|sunday",
        r"|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)\.?",
    ))
    .unwrap()
});
static KOREAN_WEEKDAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([월화수목금토일])요일").unwrap());
/// Single-syllable weekdays: in parentheses (`(토)`, `(월, 목)`) or in a list (`월/수/금`).
static KOREAN_WEEKDAY_GROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"[(（]\s*[월화수목금토일](?:\s*[,/·~-]\s*[월화수목금토일])*\s*[)）]",
        r"|[월화수목금토일](?:\s*[/·,]\s*[월화수목금토일])+",
    ))
    .unwrap()
});

pub(super) fn weekdays(text: &str, side: Side) -> Vec<Recognised> {
    let mut found = Vec::new();
    for found_match in ENGLISH_WEEKDAY.find_iter(text) {
        let glued = char_before(text, found_match.start()).is_some_and(|c| c.is_ascii_alphabetic())
            || char_at(text, found_match.end()).is_some_and(|c| c.is_ascii_alphabetic());
        let word = found_match.as_str().trim_end_matches('.');
        let abbreviated = word.len() <= 5 && !word.to_lowercase().ends_with("day");
        let capitalised = word.starts_with(|c: char| c.is_ascii_uppercase());
        if glued || side == Side::Draft && abbreviated && !capitalised {
            continue;
        }
        if let Some(day) = english_weekday(&word.to_lowercase()) {
            found.push(Recognised::claim(
                found_match.range(),
                ClaimValue::Weekday(day),
            ));
        }
    }
    for caps in KOREAN_WEEKDAY.captures_iter(text) {
        let (Some(whole), Some(day)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        if let Some(day) = day.as_str().chars().next().and_then(korean_weekday) {
            found.push(Recognised::claim(whole.range(), ClaimValue::Weekday(day)));
        }
    }
    for group in KOREAN_WEEKDAY_GROUP.find_iter(text) {
        if found
            .iter()
            .any(|f| f.range.start < group.end() && group.start() < f.range.end)
        {
            continue;
        }
        let glued = char_before(text, group.start()).is_some_and(is_syllable)
            || char_at(text, group.end()).is_some_and(is_syllable);
        if glued {
            continue;
        }
        for (offset, c) in group.as_str().char_indices() {
            if let Some(day) = korean_weekday(c) {
                let start = group.start() + offset;
                found.push(Recognised::claim(
                    start..start + c.len_utf8(),
                    ClaimValue::Weekday(day),
                ));
            }
        }
    }
    found
}

fn english_weekday(word: &str) -> Option<u8> {
    const PREFIXES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    PREFIXES
        .iter()
        .position(|prefix| word.starts_with(prefix))
        .and_then(|index| u8::try_from(index).ok())
}

fn korean_weekday(c: char) -> Option<u8> {
    "월화수목금토일"
        .chars()
        .position(|day| day == c)
        .and_then(|index| u8::try_from(index).ok())
}

static CLOCK_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:(오전|오후|아침|저녁|밤|새벽|낮)\s*)?",
        r"([0-9]{1,2}):([0-9]{2})(?::[0-9]{2})?",
        r"(?:\s*([ap])\.?\s?m\.?)?",
    ))
    .unwrap()
});
static MERIDIEM_TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)([0-9]{1,2})\s?([ap])\.?m\.?").unwrap());
static KOREAN_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:(오전|오후|아침|저녁|밤|새벽|낮)\s*)?",
        r"([0-9]{1,2}|열두|열한|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s*시",
        r"(?:\s*([0-9]{1,2})\s*분|\s*(반))?",
    ))
    .unwrap()
});
static NAMED_TIME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"정오|자정").unwrap());

/// Syllables that turn a preceding 시 into another word: 시간 (hours), 시작 (start), 시험,
/// 시장, 시즌, 시점, 시기, 시리즈, 시청, 시설, 시계, 시공, 시각, 시도, 시대, 시스템.
const NOT_AN_HOUR_AFTER_SI: &str = "간작험장즌점기리청설계공각도대스";

pub(super) fn times(text: &str, _side: Side) -> Vec<Recognised> {
    let mut found: Vec<Recognised> = Vec::new();
    let overlaps = |found: &[Recognised], range: &std::ops::Range<usize>| {
        found
            .iter()
            .any(|f| f.range.start < range.end && range.start < f.range.end)
    };
    for caps in CLOCK_TIME.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let Some(digits) = caps.get(2) else { continue };
        let glued = char_before(text, digits.start())
            .is_some_and(|c| c.is_ascii_digit() || c == ':')
            || char_at(text, whole.end()).is_some_and(|c| c.is_ascii_digit());
        let (hour, minute) = (number(&caps, 2), number(&caps, 3));
        if glued || hour > 24 || minute > 59 {
            continue;
        }
        let period = caps
            .get(1)
            .map(|m| Period::from_korean(m.as_str()))
            .or_else(|| caps.get(4).map(|m| Period::from_letter(m.as_str())));
        let range = whole.range();
        if !overlaps(&found, &range) {
            found.push(Recognised::claim(
                range,
                ClaimValue::Time(readings(hour, minute, period)),
            ));
        }
    }
    for caps in MERIDIEM_TIME.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let glued = char_before(text, whole.start())
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, ':' | '.'))
            || char_at(text, whole.end()).is_some_and(|c| c.is_ascii_alphanumeric());
        let hour = number(&caps, 1);
        let range = whole.range();
        if glued || !(1..=12).contains(&hour) || overlaps(&found, &range) {
            continue;
        }
        let period = caps.get(2).map(|m| Period::from_letter(m.as_str()));
        found.push(Recognised::claim(
            range,
            ClaimValue::Time(readings(hour, 0, period)),
        ));
    }
    for caps in KOREAN_TIME.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let Some(hour_match) = caps.get(2) else {
            continue;
        };
        let written_in_words = !hour_match
            .as_str()
            .starts_with(|c: char| c.is_ascii_digit());
        let glued_before = char_before(text, hour_match.start()).is_some_and(|c| {
            if written_in_words {
                is_syllable(c)
            } else {
                c.is_ascii_digit()
            }
        });
        let has_minutes = caps.get(3).is_some() || caps.get(4).is_some();
        let glued_after = !has_minutes
            && char_at(text, whole.end()).is_some_and(|c| NOT_AN_HOUR_AFTER_SI.contains(c));
        let Some(hour) = hour_value(hour_match.as_str()) else {
            continue;
        };
        let minute = if caps.get(4).is_some() {
            30
        } else {
            number(&caps, 3)
        };
        let range = whole.range();
        if glued_before || glued_after || hour > 24 || minute > 59 || overlaps(&found, &range) {
            continue;
        }
        let period = caps.get(1).map(|m| Period::from_korean(m.as_str()));
        found.push(Recognised::claim(
            range,
            ClaimValue::Time(readings(hour, minute, period)),
        ));
    }
    for named in NAMED_TIME.find_iter(text) {
        let minutes = if named.as_str() == "정오" {
            12 * 60
        } else {
            0
        };
        if !overlaps(&found, &named.range()) {
            found.push(Recognised::claim(
                named.range(),
                ClaimValue::Time(vec![minutes]),
            ));
        }
    }
    found
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Period {
    Morning,
    Afternoon,
    /// 밤: evening hours, and 밤 12시 is midnight.
    Night,
    /// 낮: 낮 2시 is 14:00 but 낮 11시 is 11:00.
    Daytime,
}

impl Period {
    fn from_korean(word: &str) -> Self {
        match word {
            "오전" | "아침" | "새벽" => Self::Morning,
            "밤" => Self::Night,
            "낮" => Self::Daytime,
            _ => Self::Afternoon,
        }
    }

    fn from_letter(letter: &str) -> Self {
        if letter.eq_ignore_ascii_case("a") {
            Self::Morning
        } else {
            Self::Afternoon
        }
    }
}

/// Every minute-of-day reading of an hour and minute under an optional period.
fn readings(hour: u32, minute: u32, period: Option<Period>) -> Vec<u16> {
    let hours: Vec<u32> = match period {
        Some(Period::Morning) => vec![hour % 12],
        Some(Period::Afternoon) => vec![if hour < 12 { hour + 12 } else { hour }],
        Some(Period::Night) => vec![if hour < 12 { hour + 12 } else { 0 }],
        Some(Period::Daytime) => vec![if hour <= 6 { hour + 12 } else { hour }],
        None if hour == 0 || hour == 24 => vec![0],
        None if hour <= 12 => vec![hour % 12, hour % 12 + 12],
        None => vec![hour],
    };
    hours
        .into_iter()
        .filter_map(|h| u16::try_from(h * 60 + minute).ok())
        .collect()
}

fn hour_value(written: &str) -> Option<u32> {
    if let Ok(hour) = written.parse() {
        return Some(hour);
    }
    #[rustfmt::skip]
    const WORDS: [(&str, u32); 12] = [
        ("한", 1), ("두", 2), ("세", 3), ("네", 4), ("다섯", 5), ("여섯", 6),
        ("일곱", 7), ("여덟", 8), ("아홉", 9), ("열", 10), ("열한", 11), ("열두", 12),
    ];
    WORDS
        .iter()
        .find(|(word, _)| *word == written)
        .map(|&(_, hour)| hour)
}

fn number(caps: &Captures<'_>, group: usize) -> u32 {
    caps.get(group)
        .and_then(|m| m.as_str().parse().ok())
        .unwrap_or(0)
}

fn full_date(year: u32, month: u32, day: u32) -> Option<DateClaim> {
    let year = i32::try_from(year)
        .ok()
        .filter(|y| (1900..=2100).contains(y))?;
    Some(DateClaim {
        year: Some(year),
        month: valid_month(month)?,
        day: Some(valid_day(day)?),
        fraction: None,
    })
}

fn valid_month(month: u32) -> Option<u8> {
    u8::try_from(month).ok().filter(|m| (1..=12).contains(m))
}

fn valid_day(day: u32) -> Option<u8> {
    u8::try_from(day).ok().filter(|d| (1..=31).contains(d))
}

/// "24" is 2024: two-digit years in memos are this century's.
fn expand_year(written: &str) -> i32 {
    let year: i32 = written.parse().unwrap_or(0);
    if written.len() == 2 {
        2000 + year
    } else {
        year
    }
}

fn glued_digit_before(text: &str, at: usize) -> bool {
    char_before(text, at).is_some_and(|c| c.is_ascii_digit() || c == '.')
}

fn glued_digit_after(text: &str, at: usize) -> bool {
    char_at(text, at).is_some_and(|c| c.is_ascii_digit())
}

/// Day of the week (0 = Monday) of a Gregorian date, by Sakamoto's method.
pub(crate) fn weekday_of(year: i32, month: u8, day: u8) -> u8 {
    const OFFSETS: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let year = if month < 3 { year - 1 } else { year };
    let sunday_based = (year + year / 4 - year / 100
        + year / 400
        + OFFSETS[usize::from(month - 1)]
        + i32::from(day))
    .rem_euclid(7);
    // Sakamoto counts from Sunday = 0.
    u8::try_from((sunday_based + 6) % 7).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date_values(text: &str, side: Side) -> Vec<(Option<i32>, u8, Option<u8>)> {
        dates(text, side)
            .into_iter()
            .filter_map(|r| match r.value {
                Some(ClaimValue::Date(d)) => Some((d.year, d.month, d.day)),
                _ => None,
            })
            .collect()
    }

    fn time_values(text: &str) -> Vec<Vec<u16>> {
        times(text, Side::Draft)
            .into_iter()
            .filter_map(|r| match r.value {
                Some(ClaimValue::Time(t)) => Some(t),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_same_date_in_every_notation() {
        let expected = vec![(Some(2024), 3, Some(5))];
        for written in [
            "2024년 3월 5일",
            "2024-03-05",
            "2024.3.5",
            "2024. 3. 5.",
            "March 5, 2024",
            "5 March 2024",
            "3/5/2024",
        ] {
            assert_eq!(date_values(written, Side::Draft), expected, "{written}");
        }
        for written in ["3월 5일", "3/5", "March 5th", "Mar 5"] {
            assert_eq!(
                date_values(written, Side::Draft),
                vec![(None, 3, Some(5))],
                "{written}"
            );
        }
    }

    #[test]
    fn month_words_that_are_not_months() {
        assert!(date_values("you may go", Side::Draft).is_empty());
        assert!(date_values("the market", Side::Draft).is_empty());
        assert!(date_values("march on", Side::Draft).is_empty());
        assert_eq!(
            date_values("before june", Side::Source),
            vec![(None, 6, None)]
        );
        assert!(date_values("6개월", Side::Draft).is_empty());
    }

    #[test]
    fn times_read_with_and_without_period() {
        assert_eq!(time_values("오후 3시"), vec![vec![900]]);
        assert_eq!(time_values("3시"), vec![vec![180, 900]]);
        assert_eq!(time_values("3:30 PM"), vec![vec![930]]);
        assert_eq!(time_values("15:00"), vec![vec![900]]);
        assert_eq!(time_values("세 시 반"), vec![vec![210, 930]]);
        assert_eq!(time_values("12시 30분"), vec![vec![30, 750]]);
        assert_eq!(time_values("7pm"), vec![vec![1140]]);
    }

    #[test]
    fn hours_of_duration_are_not_times() {
        assert!(time_values("3시간 걸림").is_empty());
        assert!(time_values("회의 시작").is_empty());
        assert!(time_values("1:1 미팅").is_empty());
    }

    #[test]
    fn weekdays_in_korean_and_english() {
        let mut days: Vec<u8> = weekdays("(월, 목) 토요일 Fri sat", Side::Draft)
            .into_iter()
            .filter_map(|r| match r.value {
                Some(ClaimValue::Weekday(d)) => Some(d),
                _ => None,
            })
            .collect();
        days.sort_unstable();
        // "sat" lowercase is a verb on the draft side.
        assert_eq!(days, vec![0, 3, 4, 5]);
    }

    #[test]
    fn weekday_of_known_dates() {
        assert_eq!(weekday_of(2024, 11, 2), 5); // a Saturday
        assert_eq!(weekday_of(2024, 3, 5), 1); // a Tuesday
    }
}
