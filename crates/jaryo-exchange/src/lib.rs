//! Moving a library in and out.
//!
//! - [`import`]: a folder of Markdown and text files, or an Obsidian vault, becomes
//!   documents; importing it again adds nothing and updates what changed.
//! - [`export`]: every memo and document as Markdown with YAML front matter, a folder that
//!   opens as an Obsidian vault.
//!
//! Architecture invariant: this crate knows files and formats, not databases; it reads and
//! writes the library only through [`jaryo_store::Store`], so it works on every store.

pub mod archive;
pub mod export;
pub mod file_names;
pub mod front_matter;
pub mod import;
pub mod vault;

pub use export::{
    ExportError, ExportProgress, ExportSink, ExportSummary, FolderSink, ZipSink, export_library,
    export_to_folder,
};
pub use import::{ImportError, ImportOptions, ImportProgress, ImportSummary, import_folder};
