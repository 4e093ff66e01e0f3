//! Typed client of the API.
