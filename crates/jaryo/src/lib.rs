//! jaryo binary library.
