//! Everything the source says, gathered generously, and the rule per kind for whether a draft's
//! claim is supported by it.
//!
//! - **Numbers**: supported when any reading's value equals (within float noise) a value of the
//!   source: a recognised amount, or any digit group of the raw source (so a number inside a
//!   phone number or a URL also counts). "3.5" is also supported by 5 March in the source.
//! - **Dates**: a full date needs the same full date, or the same month and day plus the year
//!   written anywhere; a month-day needs that month and day in any year; a month needs the month.
//! - **Times**: any shared minute-of-day reading.
//! - **Weekdays**: the weekday is named in the source, or a full date of the source falls on it.
//! - **URLs**: the same key, a shorter prefix of a source URL (the draft dropped a path), or the
//!   key occurs in the source's text.
//! - **E-mail, phone, dotted numerals**: the same key, or the same text/digit sequence anywhere
//!   in the source.
//! - **Latin terms**: the folded word occurs in the source; or without its separators (Wi-Fi ≡
//!   wifi); or every part of a compound does; or it is a plural of a source word; or one is a
//!   prefix of the other with at least four letters in common (Postgres ≡ PostgreSQL, sync ≡
//!   Synchronous, deploy ≡ Deployment); or it occurs inside the source's text. Function words and
//!   structural vocabulary never count.
//! - **Hangul terms**: after stripping particles and endings, a stem is supported when all its
//!   bigrams occur in the source (also across one space: 서버 점검 covers 서버점검), when it
//!   differs from a source word only in the vowel and final consonant of its last syllable
//!   (conjugation: 바꿨 ≡ 바꾸, 만든 ≡ 만들), or when it splits into supported parts of two or
//!   more syllables. A word that strips down to a single syllable is inflection, not a term.

use std::collections::HashSet;

use super::datetime::weekday_of;
use super::words::{all_latin_words, fold_latin, hangul_runs};
use super::{Claim, ClaimValue, DateClaim, NumberClaim};
use crate::FidelityConfig;
use crate::hangul::{initial_consonant, stem_variants};
use crate::vocabulary::{ENGLISH_COMMON, KOREAN_COMMON, KOREAN_SUFFIXES};

/// The longest Hangul stem whose tail-fuzzed form is indexed; longer words rely on bigrams.
const MAX_TAIL_KEY_SYLLABLES: usize = 8;
/// The longest Hangul stem split into compound parts; the split is quadratic, and real compounds
/// are short (a run of syllables without spaces longer than this is not one word).
const MAX_COMPOUND_SYLLABLES: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct SourceFacts {
    numbers: Vec<f64>,
    literals: HashSet<String>,
    full_dates: HashSet<(i32, u8, u8)>,
    month_days: HashSet<(u8, u8)>,
    year_months: HashSet<(i32, u8)>,
    months: HashSet<u8>,
    weekdays: HashSet<u8>,
    times: HashSet<u16>,
    urls: Vec<String>,
    emails: HashSet<String>,
    phones: HashSet<String>,
    /// Every ASCII digit of the source, in order.
    digit_stream: String,
    /// The whole source, folded like Latin words.
    folded_text: String,
    latin_words: HashSet<String>,
    /// Latin words without separators: wi-fi → wifi.
    latin_words_joined: HashSet<String>,
    hangul_bigrams: HashSet<(char, char)>,
    hangul_tail_keys: HashSet<String>,
}

impl SourceFacts {
    /// Gathers the facts of a source from its claims (made on its masked view) and its raw NFC
    /// text.
    pub(crate) fn gather(source: &str, claims: &[Claim]) -> Self {
        let mut facts = Self::default();
        for claim in claims {
            facts.add_claim(&claim.value);
        }
        facts.add_raw_digits(source);
        facts.add_latin_vocabulary(source);
        facts.add_hangul_vocabulary(source);
        facts.digit_stream = source.chars().filter(char::is_ascii_digit).collect();
        facts.folded_text = fold_latin(source);
        facts
    }

    fn add_claim(&mut self, value: &ClaimValue) {
        match value {
            ClaimValue::Url(key) => self.urls.push(key.clone()),
            ClaimValue::Email(key) => {
                self.emails.insert(key.clone());
            }
            ClaimValue::Phone(key) => {
                self.phones.insert(key.clone());
            }
            ClaimValue::Date(date) => self.add_date(date),
            ClaimValue::Time(minutes) => {
                for &minute in minutes {
                    self.times.insert(minute);
                    self.numbers.push(f64::from(minute / 60));
                    self.numbers.push(f64::from(minute / 60 % 12));
                    self.numbers.push(f64::from(minute % 60));
                }
            }
            ClaimValue::Weekday(day) => {
                self.weekdays.insert(*day);
            }
            ClaimValue::Number(NumberClaim { values, month_day }) => {
                self.numbers.extend(values);
                if let Some((month, day)) = month_day {
                    self.month_days.insert((*month, *day));
                    self.months.insert(*month);
                }
            }
            ClaimValue::Literal(literal) => self.add_literal(literal),
            ClaimValue::Latin(_) | ClaimValue::Hangul(_) => {}
        }
    }

    fn add_date(&mut self, date: &DateClaim) {
        let month = date.month;
        self.months.insert(month);
        self.numbers.push(f64::from(month));
        if let Some(fraction) = date.fraction {
            self.numbers.push(fraction);
        }
        if let Some(year) = date.year {
            self.year_months.insert((year, month));
            self.numbers.push(f64::from(year));
        }
        if let Some(day) = date.day {
            self.month_days.insert((month, day));
            self.numbers.push(f64::from(day));
            if let Some(year) = date.year {
                self.full_dates.insert((year, month, day));
            }
        }
    }

    /// A dotted numeral may be a date in a Korean memo ("24.3.5", "2024.3.5").
    fn add_literal(&mut self, literal: &str) {
        self.literals.insert(literal.to_owned());
        let parts: Vec<u32> = literal.split('.').filter_map(|p| p.parse().ok()).collect();
        if let [year, month, day] = parts[..]
            && let (Ok(month), Ok(day)) = (u8::try_from(month), u8::try_from(day))
            && (1..=12).contains(&month)
            && (1..=31).contains(&day)
        {
            let year = if year < 100 { 2000 + year } else { year };
            self.add_date(&DateClaim {
                year: i32::try_from(year).ok(),
                month,
                day: Some(day),
                fraction: None,
            });
        }
    }

    /// Every digit group of the raw source, alone and joined by its separators, so a number
    /// inside anything the recognisers claimed differently still supports the same number.
    fn add_raw_digits(&mut self, source: &str) {
        let mut group = String::new();
        let flush =
            |group: &mut String, numbers: &mut Vec<f64>, month_days: &mut HashSet<(u8, u8)>| {
                if group.is_empty() {
                    return;
                }
                for part in group.split([',', '.']) {
                    if let Ok(value) = part.parse::<f64>() {
                        numbers.push(value);
                    }
                }
                if let Ok(value) = group.replace(',', "").parse::<f64>() {
                    numbers.push(value);
                }
                if let Some((month, day)) = group.split_once('.')
                    && let (Ok(month), Ok(day)) = (month.parse::<u8>(), day.parse::<u8>())
                    && (1..=12).contains(&month)
                    && (1..=31).contains(&day)
                {
                    month_days.insert((month, day));
                }
                group.clear();
            };
        let chars: Vec<char> = source.chars().collect();
        for (index, &c) in chars.iter().enumerate() {
            let separator_inside = matches!(c, ',' | '.')
                && !group.is_empty()
                && chars.get(index + 1).is_some_and(char::is_ascii_digit);
            if c.is_ascii_digit() || separator_inside {
                group.push(c);
            } else {
                flush(&mut group, &mut self.numbers, &mut self.month_days);
            }
        }
        flush(&mut group, &mut self.numbers, &mut self.month_days);
    }

    fn add_latin_vocabulary(&mut self, source: &str) {
        for word in all_latin_words(source) {
            let folded = fold_latin(word);
            for part in folded.split(['-', '_', '.', '+', '&', '\'']) {
                if !part.is_empty() {
                    self.latin_words.insert(part.to_owned());
                }
            }
            self.latin_words_joined.insert(without_separators(&folded));
            self.latin_words.insert(folded);
        }
    }

    fn add_hangul_vocabulary(&mut self, source: &str) {
        let mut previous: Option<(usize, char)> = None;
        for run in hangul_runs(source) {
            let syllables: Vec<char> = run.as_str().chars().collect();
            if let Some((previous_end, previous_last)) = previous
                && source[previous_end..run.start()] == *" "
                && let Some(&first) = syllables.first()
            {
                self.hangul_bigrams.insert((previous_last, first));
            }
            for pair in syllables.windows(2) {
                self.hangul_bigrams.insert((pair[0], pair[1]));
            }
            for end in 2..=syllables.len() {
                let shortest_start = end.saturating_sub(MAX_TAIL_KEY_SYLLABLES);
                for start in shortest_start..=end - 2 {
                    if let Some(key) = tail_key(&syllables[start..end]) {
                        self.hangul_tail_keys.insert(key);
                    }
                }
            }
            previous = syllables.last().map(|&last| (run.end(), last));
        }
    }

    /// Whether the source supports a claim of the draft.
    pub(crate) fn supports(&self, claim: &Claim, config: &FidelityConfig) -> bool {
        match &claim.value {
            ClaimValue::Url(key) => self.supports_url(key),
            ClaimValue::Email(key) => {
                self.emails.contains(key) || self.folded_text.contains(key.as_str())
            }
            ClaimValue::Phone(digits) => {
                self.phones.contains(digits)
                    || digits.len() >= 7 && self.digit_stream.contains(digits.as_str())
            }
            ClaimValue::Date(date) => self.supports_date(date),
            ClaimValue::Time(minutes) => minutes.iter().any(|m| self.times.contains(m)),
            ClaimValue::Weekday(day) => {
                self.weekdays.contains(day)
                    || self
                        .full_dates
                        .iter()
                        .any(|&(y, m, d)| weekday_of(y, m, d) == *day)
            }
            ClaimValue::Number(number) => self.supports_number(number),
            ClaimValue::Literal(literal) => {
                self.literals.contains(literal) || self.folded_text.contains(literal.as_str())
            }
            ClaimValue::Latin(word) => self.supports_latin(word, config),
            ClaimValue::Hangul(word) => self.supports_hangul(word, config),
        }
    }

    fn supports_url(&self, key: &str) -> bool {
        self.urls.iter().any(|url| {
            url == key
                || url
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.starts_with(['/', '?', '#', ':']))
        }) || self.folded_text.contains(key)
    }

    fn supports_date(&self, date: &DateClaim) -> bool {
        if date.fraction.is_some_and(|value| self.has_number(value)) {
            return true;
        }
        match (date.year, date.day) {
            (Some(year), Some(day)) => {
                self.full_dates.contains(&(year, date.month, day))
                    || self.month_days.contains(&(date.month, day))
                        && self.has_number(f64::from(year))
            }
            (None, Some(day)) => self.month_days.contains(&(date.month, day)),
            (Some(year), None) => {
                self.year_months.contains(&(year, date.month))
                    || self.months.contains(&date.month) && self.has_number(f64::from(year))
            }
            (None, None) => self.months.contains(&date.month),
        }
    }

    fn supports_number(&self, number: &NumberClaim) -> bool {
        number.values.iter().any(|&value| self.has_number(value))
            || number
                .month_day
                .is_some_and(|month_day| self.month_days.contains(&month_day))
    }

    fn has_number(&self, value: f64) -> bool {
        self.numbers
            .iter()
            .any(|&known| (known - value).abs() <= 1e-9 * known.abs().max(value.abs()).max(1.0))
    }

    fn supports_latin(&self, word: &str, config: &FidelityConfig) -> bool {
        let folded = fold_latin(word);
        if folded.chars().count() < config.min_latin_term_chars
            || self.is_common_latin(&folded, config)
        {
            return true;
        }
        if self.latin_word_known(&folded)
            || self
                .latin_words_joined
                .contains(&without_separators(&folded))
        {
            return true;
        }
        let parts: Vec<&str> = folded
            .split(['-', '_', '.', '+', '&', '\''])
            .filter(|part| !part.is_empty())
            .collect();
        if parts.len() > 1
            && parts.iter().all(|part| {
                self.latin_word_known(part)
                    || self.is_common_latin(part, config)
                    || part.chars().all(|c| c.is_ascii_digit())
                        && part.parse::<f64>().is_ok_and(|v| self.has_number(v))
            })
        {
            return true;
        }
        (folded.chars().count() >= 4 && self.folded_text.contains(folded.as_str()))
            || self.same_inflected_stem(&folded)
    }

    /// Another inflection of a source word: run ≡ running, plan ≡ planned (a doubled final
    /// consonant before the suffix is one letter).
    fn same_inflected_stem(&self, folded: &str) -> bool {
        let stem = undouble(english_stem(folded));
        stem.chars().count() >= 3
            && self
                .latin_words
                .iter()
                .any(|known| undouble(english_stem(known)) == stem)
    }

    /// Whether this text (read as a pool) keeps a source's Latin word: as a term would be
    /// supported, or as another inflection of the same stem (owns ≡ owner, decided ≡ decide).
    pub(crate) fn keeps_latin_word(&self, word: &str, config: &FidelityConfig) -> bool {
        if self.supports_latin(word, config) {
            return true;
        }
        let folded = fold_latin(word);
        let stem = english_stem(&folded);
        self.latin_words
            .iter()
            .any(|known| english_stem(known) == stem)
    }

    /// Whether this text (read as a pool) keeps a source's Hangul word, by stem.
    pub(crate) fn keeps_hangul_word(&self, word: &str, config: &FidelityConfig) -> bool {
        self.supports_hangul(word, config)
    }

    /// Known as written, as a plural of a source word, or sharing a stem of four or more letters.
    fn latin_word_known(&self, folded: &str) -> bool {
        if self.latin_words.contains(folded) {
            return true;
        }
        let singulars = [
            folded.strip_suffix("ies").map(|stem| format!("{stem}y")),
            folded.strip_suffix("es").map(str::to_owned),
            folded.strip_suffix('s').map(str::to_owned),
        ];
        if singulars
            .iter()
            .flatten()
            .any(|singular| self.latin_words.contains(singular))
        {
            return true;
        }
        self.latin_words
            .iter()
            .any(|known| same_stem(known, folded) || abbreviates(known, folded))
    }

    fn is_common_latin(&self, folded: &str, config: &FidelityConfig) -> bool {
        ENGLISH_COMMON.contains(folded) || is_ignored(folded, config)
    }

    fn supports_hangul(&self, word: &str, config: &FidelityConfig) -> bool {
        let minimum = config.min_hangul_term_syllables.max(1);
        // A particle left alone once the recognisers took its host ("3월 15일까지" → "까지").
        let orphan_particle = KOREAN_SUFFIXES.contains(&word);
        if word.chars().count() < minimum || orphan_particle || is_ignored(word, config) {
            return true;
        }
        let variants = stem_variants(word);
        if variants
            .iter()
            .any(|variant| variant.chars().count() < minimum)
        {
            return true;
        }
        variants.iter().any(|variant| {
            let syllables: Vec<char> = variant.chars().collect();
            self.hangul_stem_supported(&syllables, config)
                || self.hangul_compound_supported(&syllables, minimum, config)
                // 재검토 is 다시 검토: the Sino-Korean "re-" adds no fact to a supported stem.
                || variant.strip_prefix('재').is_some_and(|rest| {
                    let rest: Vec<char> = rest.chars().collect();
                    rest.len() >= minimum.max(2) && self.hangul_stem_supported(&rest, config)
                })
        })
    }

    fn hangul_stem_supported(&self, syllables: &[char], config: &FidelityConfig) -> bool {
        let stem: String = syllables.iter().collect();
        KOREAN_COMMON.contains(stem.as_str())
            || is_ignored(&stem, config)
            || syllables
                .windows(2)
                .all(|pair| self.hangul_bigrams.contains(&(pair[0], pair[1])))
            || tail_key(syllables).is_some_and(|key| self.hangul_tail_keys.contains(&key))
    }

    /// Splits a stem into supported parts of at least `minimum` syllables (서버점검 → 서버 +
    /// 점검), by dynamic programming over the split points.
    fn hangul_compound_supported(
        &self,
        syllables: &[char],
        minimum: usize,
        config: &FidelityConfig,
    ) -> bool {
        let length = syllables.len();
        if length < 2 * minimum || length > MAX_COMPOUND_SYLLABLES {
            return false;
        }
        let mut reachable = vec![false; length + 1];
        reachable[0] = true;
        for end in minimum..=length {
            reachable[end] = (0..=end - minimum).any(|start| {
                reachable[start] && self.hangul_stem_supported(&syllables[start..end], config)
            });
        }
        reachable[length]
    }
}

/// Whether a source's Latin word carries content a draft should keep: three letters or more,
/// not a function or structure word, not ignored.
pub(crate) fn is_content_latin(word: &str, config: &FidelityConfig) -> bool {
    let folded = fold_latin(word);
    folded.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && !ENGLISH_COMMON.contains(folded.as_str())
        && !ENGLISH_COMMON.contains(english_stem(&folded))
        && !is_ignored(&folded, config)
}

/// Whether a source's Hangul word carries content a draft should keep: a stem of two syllables
/// or more that is not structure vocabulary (a word that strips down to one syllable is an
/// inflected short word, and a lone particle is no word).
pub(crate) fn is_content_hangul(word: &str, config: &FidelityConfig) -> bool {
    let minimum = config.min_hangul_term_syllables.max(2);
    if word.chars().count() < minimum || KOREAN_SUFFIXES.contains(&word) || is_ignored(word, config)
    {
        return false;
    }
    let variants = stem_variants(word);
    variants
        .iter()
        .all(|variant| variant.chars().count() >= minimum)
        && !variants
            .iter()
            .any(|variant| KOREAN_COMMON.contains(variant.as_str()))
}

/// A crude English stem for comparing inflections: the word less one common suffix, keeping at
/// least three letters (owns → own, testing → test, decided → decid, decide → decid).
fn english_stem(folded: &str) -> &str {
    const SUFFIXES: &[&str] = &[
        "ings", "ing", "ied", "ies", "ed", "es", "er", "ers", "ly", "s", "e",
    ];
    for suffix in SUFFIXES {
        if let Some(stem) = folded.strip_suffix(suffix)
            && stem.chars().count() >= 3
        {
            return stem;
        }
    }
    folded
}

/// A stem whose last two letters are the same consonant, less one of them (runn → run).
fn undouble(stem: &str) -> &str {
    let mut chars = stem.chars().rev();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a == b && !"aeiou".contains(a) && stem.len() > 3 => {
            &stem[..stem.len() - a.len_utf8()]
        }
        _ => stem,
    }
}

/// The stem with its last syllable reduced to its initial consonant, so conjugated forms of one
/// stem share a key (만들 / 만든 → 만 + ㄷ).
fn tail_key(syllables: &[char]) -> Option<String> {
    let (&last, head) = syllables.split_last()?;
    let initial = initial_consonant(last)?;
    let mut key: String = head.iter().collect();
    key.push(char::from_u32(0x1100 + initial)?);
    Some(key)
}

/// One word is a prefix of the other with at least four letters (deploy / deployment,
/// postgres / postgresql), or they share five letters and differ in at most three trailing ones
/// (changed / changes, replication / replicated).
fn same_stem(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let shorter = a.len().min(b.len());
    (common == shorter && shorter >= 4)
        || (common >= 5 && a.len() - common <= 3 && b.len() - common <= 3)
}

/// A memo's abbreviation of three or more letters spelled out by the draft: the same first
/// letter and the abbreviation's letters in order (appt → appointment, mgmt → management).
fn abbreviates(abbreviation: &str, word: &str) -> bool {
    let length = abbreviation.chars().count();
    if length < 3 || word.chars().count() < length + 2 || ENGLISH_COMMON.contains(abbreviation) {
        return false;
    }
    if abbreviation.chars().next() != word.chars().next() {
        return false;
    }
    let mut remaining = word.chars();
    abbreviation
        .chars()
        .all(|letter| remaining.by_ref().any(|c| c == letter))
}

fn without_separators(folded: &str) -> String {
    folded
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | '+' | '&' | '\'' | ' '))
        .collect()
}

fn is_ignored(word: &str, config: &FidelityConfig) -> bool {
    config
        .ignored_terms
        .iter()
        .any(|ignored| fold_latin(ignored) == fold_latin(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Side, extract_claims};

    fn unsupported(source: &str, draft: &str) -> Vec<String> {
        let config = FidelityConfig::default();
        let pool = SourceFacts::gather(source, &extract_claims(source, Side::Source));
        extract_claims(draft, Side::Draft)
            .into_iter()
            .filter(|claim| !pool.supports(claim, &config))
            .map(|claim| draft[claim.range].to_owned())
            .collect()
    }

    #[test]
    fn hangul_words_match_after_particles_and_endings() {
        assert!(unsupported("서버 점검 필요", "서버를 점검했습니다").is_empty());
        assert!(unsupported("서버 점검", "서버점검 완료").is_empty());
        assert!(unsupported("설정 바꾸기", "설정을 바꿨습니다").is_empty());
        assert_eq!(
            unsupported("서버 점검", "박지훈 님이 서버 점검"),
            ["박지훈"]
        );
    }

    #[test]
    fn latin_words_match_by_case_stem_and_compound() {
        assert!(unsupported("postgres upgrade", "PostgreSQL Upgrade").is_empty());
        assert!(unsupported("wifi channel", "Wi-Fi Channel").is_empty());
        assert!(unsupported("deploy the app", "Deployment of the App").is_empty());
        assert_eq!(
            unsupported("deploy the app", "Deploy via Kubernetes"),
            ["Kubernetes"]
        );
        assert!(unsupported("changed the channel", "Channel Changes").is_empty());
        assert!(unsupported("dentist appt", "Dentist Appointment").is_empty());
        assert_eq!(unsupported("call Hendrix", "Call Henderson"), ["Henderson"]);
    }

    #[test]
    fn a_shorter_url_is_supported_but_a_longer_one_is_not() {
        assert!(unsupported("https://github.com/a/b", "github.com/a").is_empty());
        assert_eq!(
            unsupported("github.com/a", "https://github.com/a/b"),
            ["https://github.com/a/b"]
        );
    }

    #[test]
    fn weekdays_of_stated_dates_are_supported() {
        assert!(unsupported("2024년 11월 2일 결혼식", "2024-11-02 (토)").is_empty());
        assert_eq!(
            unsupported("2024년 11월 2일 결혼식", "2024-11-02 (일)"),
            ["일"]
        );
    }
}
