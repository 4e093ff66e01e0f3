//! Micro-benchmark of the pure text path, one core, no database: what the analyzer, chunker,
//! query parser and snippet highlighter cost per kilobyte or per call on the benchmark corpus.
//!
//! `cargo run --release -p jaryo-bench --bin text_analyzer [DOCUMENTS]` (default 20,000).

use std::hint::black_box;
use std::time::{Duration, Instant};

use jaryo_bench::corpus::{Corpus, CorpusConfig};
use jaryo_text::{
    ChunkConfig, Query, SnippetConfig, chunk_markdown, index_terms_into, score, snippet_within,
};

fn per_kb(elapsed: Duration, bytes: usize) -> f64 {
    elapsed.as_secs_f64() * 1e6 / (bytes as f64 / 1024.0)
}

fn main() {
    let documents: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("DOCUMENTS must be a number"))
        .unwrap_or(20_000);
    let corpus = Corpus::new(CorpusConfig {
        documents,
        ..CorpusConfig::default()
    });

    let started = Instant::now();
    let docs: Vec<_> = corpus.documents().collect();
    let generation = started.elapsed();
    let bytes: usize = docs.iter().map(|d| d.title.len() + d.body.len()).sum();
    println!(
        "corpus: {documents} documents, {:.1} MB, generated in {:.2} s",
        bytes as f64 / 1e6,
        generation.as_secs_f64()
    );

    // Analyzer: title and body to FTS5 term strings, buffers reused as a bulk indexer would.
    let mut title_terms = String::new();
    let mut body_terms = String::new();
    let mut terms = 0usize;
    let started = Instant::now();
    for doc in &docs {
        title_terms.clear();
        body_terms.clear();
        terms += index_terms_into(&doc.title, &mut title_terms);
        terms += index_terms_into(&doc.body, &mut body_terms);
        black_box((&title_terms, &body_terms));
    }
    let analysis = started.elapsed();
    println!(
        "analyzer: {:.1} µs/KB, {:.0} docs/s on one core, {:.0} terms/doc",
        per_kb(analysis, bytes),
        documents as f64 / analysis.as_secs_f64(),
        terms as f64 / documents as f64
    );

    let config = ChunkConfig::default();
    let small_chunks = ChunkConfig {
        max_chars: 300,
        overlap_chars: 50,
    };
    for (label, config) in [("default", &config), ("max 300", &small_chunks)] {
        let mut chunks = 0usize;
        let started = Instant::now();
        for doc in &docs {
            chunks += black_box(chunk_markdown(&doc.body, config)).len();
        }
        let chunking = started.elapsed();
        println!(
            "chunker ({label}): {:.1} µs/KB, {:.2} chunks/doc",
            per_kb(chunking, bytes),
            chunks as f64 / documents as f64
        );
    }

    let inputs: Vec<String> = corpus.queries(6).into_iter().map(|q| q.text).collect();
    let rounds = 2_000;
    let started = Instant::now();
    for _ in 0..rounds {
        for input in &inputs {
            let query = Query::parse(input).expect("benchmark queries parse");
            black_box((query.to_fts5_match(), query.to_tsquery_text()));
        }
    }
    let parsing = started.elapsed();
    println!(
        "query parse + both renderings: {:.2} µs/query",
        parsing.as_secs_f64() * 1e6 / (rounds * inputs.len()) as f64
    );

    // A results page: for each hit, the best chunk by score, then a snippet inside it.
    let queries: Vec<Query> = inputs.iter().map(|i| Query::parse(i).unwrap()).collect();
    let sample = &docs[..docs.len().min(2_000)];
    let chunked: Vec<_> = sample
        .iter()
        .map(|d| chunk_markdown(&d.body, &small_chunks))
        .collect();
    let started = Instant::now();
    let mut snippets = 0usize;
    for (doc, chunks) in sample.iter().zip(&chunked) {
        for query in &queries {
            let best = chunks
                .iter()
                .max_by_key(|c| score(query, c.text(&doc.body)))
                .map_or(0..doc.body.len(), |c| c.range.clone());
            black_box(snippet_within(
                query,
                &doc.body,
                best,
                &SnippetConfig::default(),
            ));
            snippets += 1;
        }
    }
    let snipping = started.elapsed();
    println!(
        "best chunk + snippet: {:.1} µs per hit",
        snipping.as_secs_f64() * 1e6 / snippets as f64
    );
}
