//! The store trait every jaryo database backend satisfies, with its request and error types.
