//! The `jaryo` binary's library: configuration, the command line, and the assembly of a
//! running jaryo from its crates. `main.rs` only calls [`run`].
//!
//! Architecture invariant: nothing here knows SQL or the OpenAI wire format; it wires the
//! crates that do.

pub mod app;
pub mod cli;
mod commands;
pub mod config;
mod display;
pub mod token;

use clap::Parser;

/// Parses the command line and runs the command; the process exit code.
pub fn run() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
