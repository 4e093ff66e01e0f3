//! Shared generators for the store-conformance tests: small texts and queries over a tiny
//! alphabet, so random queries hit random texts often and every shape of match (inside a
//! run, at a run's edge, across scripts, single syllables, phrases) occurs.

#![allow(dead_code)]

use proptest::prelude::*;

/// Syllables that combine into real and unreal words alike; few, so substrings recur.
const SYLLABLES: &[&str] = &["서", "버", "를", "회", "의", "설", "정", "집", "앞"];
const WORDS: &[&str] = &["axum", "Rust", "c", "SERVER", "v2", "2024"];
const SEPARATORS: &[&str] = &[" ", " ", " ", ", ", "\n", "-", "(", "."];

fn syllable_run() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SYLLABLES), 1..5).prop_map(|s| s.concat())
}

/// One unit-ish piece: a Korean run, a Latin word, or both glued (`axum서버`).
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => syllable_run(),
        2 => prop::sample::select(WORDS).prop_map(str::to_owned),
        1 => (prop::sample::select(WORDS), syllable_run()).prop_map(|(w, k)| format!("{w}{k}")),
    ]
}

/// A short text of pieces and separators.
pub fn text() -> impl Strategy<Value = String> {
    prop::collection::vec((piece(), prop::sample::select(SEPARATORS)), 0..10).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(piece, separator)| format!("{piece}{separator}"))
            .collect()
    })
}

/// A query: one to three clauses, some quoted phrases of several pieces.
pub fn query() -> impl Strategy<Value = String> {
    let clause = prop_oneof![
        3 => piece(),
        2 => prop::sample::select(SYLLABLES).prop_map(str::to_owned),
        2 => prop::collection::vec(piece(), 2..4).prop_map(|p| format!("\"{}\"", p.join(" "))),
    ];
    prop::collection::vec(clause, 1..4).prop_map(|clauses| clauses.join(" "))
}

/// Inputs crafted to break a naive renderer of FTS5 or tsquery syntax.
pub const HOSTILE_QUERIES: &[&str] = &[
    "\"",
    "\"\"\"",
    "서버\" OR \"x",
    "a\" * \"b",
    "NEAR(서버 설정, 2)",
    "서버 AND NOT 설정",
    "title:서버",
    "{title body}: 서버",
    "서버 & 설정 | 회의 ! 일정",
    "'서버' <-> '설정'",
    "'회':*",
    "(((서버",
    "서버)))",
    "\\\"서버\\\"",
    "^서버 + 설정 - 회의",
    "서버* 설정*",
    "\u{0}서버\u{7f}",
    "＂서버＂ ＊",
    "' OR 1=1 --",
    "axum'); DROP TABLE t; --",
];
