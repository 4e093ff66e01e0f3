//! The command line: one binary that runs the server and talks to it.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "jaryo",
    version,
    about = "jaryo (자료): memos, a library of documents, and drafts from your own local LLM",
    long_about = "jaryo keeps your memos, turns the ones worth keeping into documents, and has \
                  your own local language model draft clean Markdown from them (without adding \
                  facts) for you to review.\n\n\
                  Start the server with `jaryo serve`; the other commands talk to it.",
    after_help = "Configuration: flags > JARYO_* environment variables > <data-dir>/jaryo.toml \
                  > defaults. `jaryo config default` prints every setting with its default."
)]
pub struct Cli {
    /// Configuration file (default: <data-dir>/jaryo.toml).
    #[arg(long, global = true, env = "JARYO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Data directory holding the database, the API token and the server's address.
    #[arg(long, global = true, env = "JARYO_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run jaryo: the HTTP API (and web UI) and the draft worker, on the embedded SQLite
    /// database by default.
    Serve(ServeArgs),
    /// Run only the draft worker, without the HTTP server (for a second process or machine on
    /// the same database).
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Show or print configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Capture, list, show, edit and delete memos.
    #[command(subcommand)]
    Memo(MemoCommand),
    /// Send a memo to the library: make a document of it and queue a draft.
    Promote {
        /// The memo's id.
        memo_id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List, show and delete documents.
    #[command(subcommand)]
    Doc(DocCommand),
    /// Search memos and documents by their original words, best first, matches highlighted;
    /// or, with only `--tag`, list everything carrying that tag.
    Search(SearchArgs),
    /// List the tags in use with their counts, or rename one.
    #[command(subcommand)]
    Tag(TagCommand),
    /// Rebuild the search index and the documents' chunks from the original text: after an
    /// upgrade that changed the analyzer, a changed [chunk] setting, or to recover. Works on
    /// the database in the data directory directly; safe while `jaryo serve` runs.
    Reindex,
    /// Copy the library to FILE while it runs: a consistent, checked snapshot of the SQLite
    /// database, written under a temporary name and renamed when whole. (On PostgreSQL, use
    /// pg_dump.)
    Backup {
        /// Where the copy goes.
        file: std::path::PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup made by `jaryo backup` into the data directory (--data-dir), checked
    /// before and after. Refuses while a jaryo runs on the data directory, and refuses to
    /// replace a library that is there without --force.
    Restore {
        /// The backup file.
        file: std::path::PathBuf,
        /// Replace the library in the data directory.
        #[arg(long)]
        force: bool,
    },
    /// Bring notes in: a folder of Markdown and text files or an Obsidian vault becomes
    /// documents (front matter kept as properties, its tags and dates applied). Importing the
    /// same folder again adds nothing and updates what changed, so an import cut short is
    /// finished by running it again. Works on the configured library directly; safe while
    /// `jaryo serve` runs.
    Import {
        /// The folder to import.
        path: std::path::PathBuf,
        /// Read and check everything; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Take files in: each file (folders are walked, hidden entries skipped) becomes a
    /// document whose text is read in the background (PDF, HWP, HWPX, DOCX, HTML, text, images
    /// through OCR); the same bytes added again are found, not copied. Works on the configured
    /// library directly; safe while `jaryo serve` runs. Fails if any file could not be added.
    Add {
        /// Files and folders.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Print each file's outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write every memo and document to DIR as Markdown with YAML front matter: a folder
    /// that opens as an Obsidian vault, with each accepted draft's original kept beside it.
    /// DIR must be new or empty.
    Export {
        /// Where the export goes.
        dir: std::path::PathBuf,
    },
    /// Re-run drafts selectively: flagged, failed, from an older prompt or a model, by time.
    Redraft(crate::redraft::RedraftArgs),
    /// Ask a question; the answer comes from your notes, with the sources it cites.
    Ask(crate::ask::AskArgs),
    /// Serve MCP (the Model Context Protocol) on standard input and output, for an AI
    /// assistant that starts jaryo as a command: search, read, list, capture and ask. Opens
    /// the data directory's store directly; logs go to standard error.
    Mcp,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Every word must match. Korean words match inside longer words \
                        (서버 finds 서버를, 웹서버에서); English words match whole, in any case; \
                        \"quoted words\" must appear together. Example: jaryo search axum 서버. \
                        Without words, --tag lists everything carrying the tag: \
                        jaryo search --tag 예산"
)]
pub struct SearchArgs {
    /// What to search for; several words are all required. May be left out with --tag.
    #[arg(num_args = 0..)]
    pub query: Vec<String>,
    /// Only memos or only documents.
    #[arg(long, value_parser = ["memo", "document"])]
    pub kind: Option<String>,
    /// Only items carrying this #tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Created on or after this date (2026-03-01) or RFC 3339 time.
    #[arg(long)]
    pub from: Option<String>,
    /// Created on or before this date (2026-03-31) or before this RFC 3339 time.
    #[arg(long)]
    pub to: Option<String>,
    /// Only documents whose draft is in this state.
    #[arg(long, value_parser = ["none", "pending", "running", "done", "skipped", "failed"])]
    pub state: Option<String>,
    /// How many hits (1-200).
    #[arg(long, default_value_t = 10)]
    pub limit: u32,
    /// Continue after a previous search (its `next_cursor`).
    #[arg(long)]
    pub cursor: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, such as 127.0.0.1:8765 (default from config).
    #[arg(long, env = "JARYO_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented jaryo.toml with every default.
    Default,
    /// Print the configuration in effect as TOML, each value with where it came from (flag,
    /// env, file or default); secrets redacted.
    Show,
}

/// How a client command reaches the server.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Server URL (default: the address a local `jaryo serve` wrote to its data directory).
    #[arg(long, env = "JARYO_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Print JSON, for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TagCommand {
    /// Every tag in use, most used first, with how many memos and documents carry it.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Rename a tag: `#FROM` becomes `#TO` in every memo's text (each memo an ordinary
    /// edit). Documents keep their original text, and so their tags.
    Rename {
        /// The tag to rename (with or without its #).
        from: String,
        /// Its new name.
        to: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemoCommand {
    /// Save a memo: its words joined by spaces (`jaryo memo add 장보기 우유 계란`), or `-` to
    /// read it from standard input (a final line break is dropped).
    Add {
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List memos, newest first.
    List {
        /// Only memos carrying this #tag.
        #[arg(long)]
        tag: Option<String>,
        /// How many (1-200).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Continue after a previous listing (its `next_cursor`).
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one memo.
    Show {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Replace a memo's text: its words joined by spaces, or `-` for standard input.
    Edit {
        id: i64,
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a memo.
    Delete {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// List documents, newest first.
    List {
        /// Only documents in this state: a drafting state (none, pending, running, done,
        /// skipped, failed) or a review state (needs-attention: drafts the fidelity check
        /// flagged; ready: drafts awaiting review; accepted; rejected).
        #[arg(long, value_parser = [
            "none", "pending", "running", "done", "skipped", "failed",
            "needs-attention", "ready", "accepted", "rejected",
        ])]
        state: Option<String>,
        /// Only documents whose original text carries this #tag.
        #[arg(long)]
        tag: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one document: its original text, its Markdown, and what the fidelity check
    /// flagged in a draft.
    Show {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete a document.
    Delete {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Queue a new draft: retry a failed one or regenerate a finished one.
    Redraft {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Accept a document's draft as it is.
    Accept {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Reject a document's draft; it stays visible, marked rejected.
    Reject {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Edit a document's draft in $VISUAL or $EDITOR, then accept the edited text. Saving it
    /// unchanged or empty accepts nothing.
    Edit {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
}
