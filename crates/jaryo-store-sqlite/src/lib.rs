//! The embedded SQLite implementation of the jaryo store.
