//! Checks a draft against its source: new facts, language drift, length.
