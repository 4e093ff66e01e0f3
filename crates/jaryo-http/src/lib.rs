//! The HTTP API (and later the web UI) of jaryo, on axum.
