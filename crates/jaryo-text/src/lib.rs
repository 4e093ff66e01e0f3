//! Text analysis shared by every store: normalisation, bigram terms, queries, chunks, snippets.
