//! File names that are valid on Windows, macOS and Linux and still read as the title.
//!
//! No library covers the three systems' rules together with Obsidian's (which cannot link to
//! a note whose name holds `#`, `^`, `[`, `]` or `|`), so they are written here: characters
//! none of them allow are replaced, reserved Windows names are avoided, the length is kept
//! under every system's limit, and names differing only in case are made distinct, since
//! macOS and Windows folders do not tell them apart.

use std::collections::HashSet;
use unicode_normalization::UnicodeNormalization;

/// Longest stem, in bytes: with an extension and a ` (12)` suffix it stays under the
/// 255 bytes Linux and macOS allow (Korean takes three bytes a syllable).
const STEM_MAX_BYTES: usize = 180;

const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A portable stem for `title`: NFC, no forbidden characters, not reserved, not empty.
pub fn portable_stem(title: &str) -> String {
    let mut stem: String = title
        .nfc()
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*' | '#' | '^' | '[' | ']' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    stem = stem.split_whitespace().collect::<Vec<_>>().join(" ");
    if stem.len() > STEM_MAX_BYTES {
        let mut end = STEM_MAX_BYTES;
        while !stem.is_char_boundary(end) {
            end -= 1;
        }
        stem.truncate(end);
    }
    // Windows drops trailing dots and spaces; a leading dot hides the file elsewhere.
    let stem = stem
        .trim_end_matches(['.', ' '])
        .trim_start_matches(['.', ' '])
        .to_owned();
    if stem.is_empty() {
        return "untitled".to_owned();
    }
    let base = stem.split('.').next().unwrap_or_default();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(base)) {
        return format!("{stem}_");
    }
    stem
}

/// Hands out file names in one folder, each distinct from the others regardless of case.
#[derive(Debug, Default)]
pub struct NameSet {
    taken: HashSet<String>,
}

impl NameSet {
    /// `stem.extension`, or `stem (2).extension` and so on when taken.
    pub fn claim(&mut self, stem: &str, extension: &str) -> String {
        let mut n = 1;
        loop {
            let name = if n == 1 {
                format!("{stem}.{extension}")
            } else {
                format!("{stem} ({n}).{extension}")
            };
            if self.taken.insert(name.to_lowercase()) {
                return name;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn korean_titles_stay_readable() {
        assert_eq!(portable_stem("2026년 예산 회의"), "2026년 예산 회의");
    }

    #[test]
    fn forbidden_characters_and_reserved_names_are_avoided() {
        assert_eq!(
            portable_stem("a/b: c? [[x]] #1 | ^"),
            "a_b_ c_ __x__ _1 _ _"
        );
        assert_eq!(portable_stem("con"), "con_");
        assert_eq!(portable_stem("LPT1.txt"), "LPT1.txt_");
        assert_eq!(portable_stem("  .hidden. "), "hidden");
        assert_eq!(portable_stem("..."), "untitled");
        assert_eq!(portable_stem("line\nbreak\ttab"), "line break tab");
    }

    #[test]
    fn decomposed_hangul_is_composed() {
        let nfd: String = "회의".nfd().collect();
        assert_eq!(portable_stem(&nfd), "회의");
    }

    #[test]
    fn long_titles_are_cut_on_a_character() {
        let stem = portable_stem(&"가".repeat(200));
        assert!(stem.len() <= STEM_MAX_BYTES);
        assert!(stem.chars().all(|c| c == '가'));
    }

    #[test]
    fn names_differing_in_case_are_made_distinct() {
        let mut names = NameSet::default();
        assert_eq!(names.claim("Plan", "md"), "Plan.md");
        assert_eq!(names.claim("plan", "md"), "plan (2).md");
        assert_eq!(names.claim("Plan", "md"), "Plan (3).md");
    }
}
