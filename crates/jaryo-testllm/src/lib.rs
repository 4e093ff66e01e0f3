//! An OpenAI-compatible model server for tests and benchmarks: scripted answers, delays, errors.
