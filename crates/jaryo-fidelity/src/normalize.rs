//! NFC normalisation that remembers where each piece came from, so findings made on the
//! normalised text point into the text as given.
//!
//! Invariant: [`NormalizedText::to_original`] maps any range of the normalised text to a range of
//! the original on char boundaries that covers at least the same characters.

use std::borrow::Cow;
use std::ops::Range;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc, is_nfc_quick};

pub(crate) struct NormalizedText<'a> {
    text: Cow<'a, str>,
    /// `(normalised_start, original_start)` of each normalisation segment, ending with a sentinel
    /// `(normalised_len, original_len)`. Empty when the text was already NFC.
    segments: Vec<(usize, usize)>,
}

impl<'a> NormalizedText<'a> {
    pub(crate) fn new(original: &'a str) -> Self {
        if is_nfc(original) {
            return Self {
                text: Cow::Borrowed(original),
                segments: Vec::new(),
            };
        }
        // Split where composition cannot reach across (a starter that never combines with what
        // precedes it), normalise each segment alone and record where it began on both sides.
        let mut text = String::with_capacity(original.len());
        let mut segments = Vec::new();
        let mut segment_start = 0;
        for (index, c) in original.char_indices() {
            if index > segment_start && starts_segment(c) {
                segments.push((text.len(), segment_start));
                text.extend(original[segment_start..index].nfc());
                segment_start = index;
            }
        }
        segments.push((text.len(), segment_start));
        text.extend(original[segment_start..].nfc());
        segments.push((text.len(), original.len()));
        Self {
            text: Cow::Owned(text),
            segments,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn to_original(&self, range: Range<usize>) -> Range<usize> {
        if self.segments.is_empty() {
            return range;
        }
        // Widen to whole segments: a segment is the smallest unit both texts agree on.
        let start_index = self
            .segments
            .partition_point(|&(normalised, _)| normalised <= range.start)
            .saturating_sub(1);
        let end_index = self
            .segments
            .partition_point(|&(normalised, _)| normalised < range.end)
            .min(self.segments.len() - 1);
        self.segments[start_index].1..self.segments[end_index].1
    }
}

fn starts_segment(c: char) -> bool {
    canonical_combining_class(c) == 0
        && !matches!(is_nfc_quick(std::iter::once(c)), IsNormalized::Maybe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_text_is_borrowed_and_maps_to_itself() {
        let normalized = NormalizedText::new("서버 점검");
        assert!(matches!(normalized.text, Cow::Borrowed(_)));
        assert_eq!(normalized.to_original(3..6), 3..6);
    }

    #[test]
    fn nfd_hangul_is_composed_and_ranges_map_back() {
        let original: String = "서버 점검 3시".nfd().collect();
        let normalized = NormalizedText::new(&original);
        assert_eq!(normalized.as_str(), "서버 점검 3시");
        let start = normalized.as_str().find("점검").unwrap();
        let range = normalized.to_original(start..start + "점검".len());
        let expected: String = "점검".nfd().collect();
        assert_eq!(&original[range], expected);
    }

    #[test]
    fn latin_combining_marks_stay_with_their_letter() {
        let original = "Bele\u{301}m 3";
        let normalized = NormalizedText::new(original);
        assert_eq!(normalized.as_str(), "Belém 3");
        let start = normalized.as_str().find('é').unwrap();
        let range = normalized.to_original(start..start + 'é'.len_utf8());
        assert_eq!(&original[range], "e\u{301}");
        let three = normalized.as_str().find('3').unwrap();
        assert_eq!(&original[normalized.to_original(three..three + 1)], "3");
    }
}
