//! The `jaryo` binary's library: configuration, the command line, and the assembly of a
//! running jaryo from its crates. `main.rs` only calls [`run`].
//!
//! Architecture invariant: nothing here knows SQL or the OpenAI wire format; it wires the
//! crates that do.

pub mod app;
mod ask;
pub mod backups;
pub mod cli;
mod commands;
pub mod config;
mod display;
mod exchange;
pub mod files;
mod mcp;
mod redraft;
pub mod seat;
pub mod token;

use clap::Parser;

/// Parses the process's command line and runs the command; the process exit code.
pub fn run() -> std::process::ExitCode {
    run_from(std::env::args_os())
}

/// Runs jaryo with the given command line (its first item is the program name). Benchmarks
/// use it to run a real server in a child process of their own binary.
pub fn run_from<I, T>(args: I) -> std::process::ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = cli::Cli::parse_from(args);
    // Searches allocate and free their results on every call (see the function).
    jaryo_fts5_rank::retain_freed_heap();
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
