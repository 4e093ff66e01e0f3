//! What each command does.

use crate::app::{self, App, WorkerOnly, read_address_file};
use crate::cli::{
    Cli, ClientArgs, Command, ConfigCommand, DocCommand, MemoCommand, SearchArgs, TagCommand,
};
use crate::config::{Config, LogFormat, Overrides, default_toml};
use crate::display;
use crate::token::{TokenOrigin, read_token_file};
use anyhow::{Context, bail};
use jaryo_client::wire::{AcceptDraftInput, RejectDraftInput};
use jaryo_client::{ApiClient, DocumentListQuery, SearchParams};
use std::io::Read;

pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let mut overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        ..Overrides::default()
    };
    if let Command::Serve(args) = &cli.command {
        overrides.listen = args.listen;
    }
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    match cli.command {
        Command::Serve(_) => serve(&config).await,
        Command::Worker => worker(&config).await,
        Command::Migrate => migrate(&config).await,
        Command::Config(ConfigCommand::Default) => {
            print!("{}", default_toml());
            Ok(())
        }
        Command::Config(ConfigCommand::Show) => {
            print!("{}", Config::show(cli.config.as_deref(), &overrides)?);
            Ok(())
        }
        Command::Memo(command) => memo(&config, command).await,
        Command::Promote { memo_id, client } => {
            let api = connect(&config, &client)?;
            let document = api.promote_memo(memo_id).await?;
            if client.json {
                display::json(&document)
            } else {
                println!(
                    "memo {memo_id} → document {} \"{}\"; a draft is queued",
                    document.id, document.title
                );
                Ok(())
            }
        }
        Command::Doc(command) => doc(&config, command).await,
        Command::Search(args) => search(&config, args).await,
        Command::Tag(command) => tag(&config, command).await,
        Command::Reindex => reindex(&config).await,
        Command::Backup { file, force } => backup(&config, &file, force).await,
        Command::Restore { file, force } => restore(&config, &file, force).await,
        Command::Import {
            path,
            dry_run,
            json,
        } => crate::exchange::import(&config, &path, dry_run, json).await,
        Command::Export { dir } => crate::exchange::export(&config, &dir).await,
        Command::Add { paths, json } => crate::files::add(&config, &paths, json).await,
        Command::Ask(args) => {
            let api = connect(&config, &args.client)?;
            crate::ask::run(&api, args).await
        }
        Command::Mcp => {
            init_logging(config.log_format);
            crate::mcp::run(&config).await
        }
        Command::Redraft(args) => {
            let api = connect(&config, &args.client)?;
            crate::redraft::run(&api, args).await
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,rmcp=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    init_logging(config.log_format);
    let app = App::start(config).await?;
    match app.token_origin {
        TokenOrigin::Generated => tracing::info!(
            path = %config.token_file().display(),
            "generated an API token; clients send it as `Authorization: Bearer <token>`"
        ),
        TokenOrigin::File => tracing::info!(
            path = %config.token_file().display(),
            "using the API token from its file"
        ),
        TokenOrigin::Configured => tracing::info!("using the configured API token"),
    }
    tracing::info!(
        url = %app.url(),
        data_dir = %config.data_dir.display(),
        model = %config.llm.client.model,
        model_server = %config.llm.client.base_url,
        "jaryo is serving"
    );
    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests and drafts in flight");
    app.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn worker(config: &Config) -> anyhow::Result<()> {
    init_logging(config.log_format);
    let worker = WorkerOnly::start(config).await?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        model = %config.llm.client.model,
        model_server = %config.llm.client.base_url,
        "jaryo worker is drafting"
    );
    shutdown_signal().await;
    tracing::info!("shutting down: finishing drafts in flight");
    worker.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    app::create_private_dir(&config.data_dir)?;
    app::open_store(config).await?;
    println!(
        "the database in {} is up to date",
        config.data_dir.display()
    );
    Ok(())
}

async fn search(config: &Config, args: SearchArgs) -> anyhow::Result<()> {
    if args.query.iter().all(|word| word.trim().is_empty())
        && args.tag.as_deref().is_none_or(|tag| tag.trim().is_empty())
    {
        bail!("give words to search for, or --tag TAG to list everything carrying a tag");
    }
    let params = SearchParams {
        q: args.query.join(" "),
        kind: args.kind,
        tag: args.tag,
        from: args.from,
        to: args.to,
        draft_state: args.state,
        limit: Some(args.limit),
        cursor: args.cursor,
    };
    let page = connect(config, &args.client)?.search(&params).await?;
    if args.client.json {
        return display::json(&page);
    }
    print!(
        "{}",
        display::search_page(&page, display::Highlight::for_stdout())
    );
    Ok(())
}

async fn backup(config: &Config, file: &std::path::Path, force: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        force || !file.exists(),
        "{} exists; --force replaces it",
        file.display()
    );
    let source = config.data_dir.join(jaryo_store_sqlite::DATABASE_FILE_NAME);
    let size = std::fs::metadata(&source)
        .map(|meta| meta.len())
        .unwrap_or(0);
    let bar = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} backing up {msg} of about {prefix} ({elapsed})",
        )
        .context("progress bar template")?,
    );
    bar.set_prefix(indicatif::HumanBytes(size).to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    // The copy grows in its hidden partial file beside the destination.
    let partial = file.with_file_name(format!(
        ".{}.partial",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    let copying = crate::backups::backup_to(config, file);
    tokio::pin!(copying);
    let report = loop {
        tokio::select! {
            report = &mut copying => break report,
            () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                let written = std::fs::metadata(&partial).map(|meta| meta.len()).unwrap_or(0);
                bar.set_message(indicatif::HumanBytes(written).to_string());
            }
        }
    };
    bar.finish_and_clear();
    let report = report?;
    println!(
        "backed up {} and {} to {} ({}, checked) in {:.1} s",
        display::count(report.counts.memos, "memo", "memos"),
        display::count(report.counts.documents, "document", "documents"),
        report.path.display(),
        indicatif::HumanBytes(report.bytes),
        report.took.as_secs_f64()
    );
    Ok(())
}

async fn restore(config: &Config, file: &std::path::Path, force: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.database_url.is_none(),
        "the configured library is on PostgreSQL: restore it with pg_restore (README,          \"Backups\"); jaryo restore writes the SQLite library of a data directory"
    );
    app::create_private_dir(&config.data_dir)?;
    anyhow::ensure!(
        !crate::seat::any_alive(&config.data_dir)?,
        "a jaryo is running on {}: stop it before restoring",
        config.data_dir.display()
    );
    let (backup, data_dir) = (file.to_owned(), config.data_dir.clone());
    let counts = tokio::task::spawn_blocking(move || {
        jaryo_store_sqlite::backup::restore(&backup, &data_dir, force)
    })
    .await
    .context("the restore task failed")??;
    // Opening it applies the migrations of this jaryo, should the backup be older.
    app::open_store(config).await?;
    println!(
        "restored {} and {} into {}; start it with: jaryo serve --data-dir {}",
        display::count(counts.memos, "memo", "memos"),
        display::count(counts.documents, "document", "documents"),
        config.data_dir.display(),
        config.data_dir.display()
    );
    Ok(())
}

async fn reindex(config: &Config) -> anyhow::Result<()> {
    app::create_private_dir(&config.data_dir)?;
    let store = app::open_store(config).await?;
    let status = store.search_index_status().await?;
    let bar = display::progress_bar(
        "{spinner} reindexing [{bar:40}] {pos}/{len} items, {per_sec}, eta {eta}",
    )?;
    bar.set_length(status.items);
    let started = std::time::Instant::now();
    let report = store
        .reindex(&|progress| {
            bar.set_length(progress.total);
            bar.set_position(progress.done);
        })
        .await
        .context("reindex failed")?;
    bar.finish_and_clear();
    println!(
        "reindexed {} and {} ({}) in {:.1} s",
        display::count(report.memos, "memo", "memos"),
        display::count(report.documents, "document", "documents"),
        display::count(report.chunks, "chunk", "chunks"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A client of the server this configuration points at.
fn connect(config: &Config, args: &ClientArgs) -> anyhow::Result<ApiClient> {
    let url = match &args.server {
        Some(url) => url.clone(),
        None => match read_address_file(&config.address_file()) {
            Some(address) => address.url,
            None => format!("http://{}", config.listen),
        },
    };
    let token = match &config.api_token {
        Some(token) => token.clone(),
        None => read_token_file(&config.token_file())?.with_context(|| {
            format!(
                "no API token: set JARYO_API_TOKEN, or start `jaryo serve` once to create {}",
                config.token_file().display()
            )
        })?,
    };
    Ok(ApiClient::new(&url, token))
}

/// A memo's text from the command line: its words joined by spaces (as `search` and `ask`
/// take them), or standard input for `-`.
fn text_argument(words: Vec<String>) -> anyhow::Result<String> {
    if words != ["-"] {
        return Ok(words.join(" "));
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the memo from standard input")?;
    if input.trim().is_empty() {
        bail!("standard input held no text");
    }
    Ok(without_final_line_break(input))
}

/// `echo` and editors end what they write with a line break the person did not type as part
/// of the memo; the text inside keeps its own.
fn without_final_line_break(mut text: String) -> String {
    let kept = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(kept);
    text
}

async fn memo(config: &Config, command: MemoCommand) -> anyhow::Result<()> {
    match command {
        MemoCommand::Add { text, client } => {
            let text = text_argument(text)?;
            let memo = connect(config, &client)?.create_memo(&text).await?;
            if client.json {
                return display::json(&memo);
            }
            println!("saved memo {}", memo.id);
        }
        MemoCommand::List {
            tag,
            limit,
            cursor,
            client,
        } => {
            let page = connect(config, &client)?
                .list_memos_tagged(tag.as_deref(), Some(limit), cursor.as_deref())
                .await?;
            if client.json {
                return display::json(&page);
            }
            display::memo_list(&page);
        }
        MemoCommand::Show { id, client } => {
            let memo = connect(config, &client)?.get_memo(id).await?;
            if client.json {
                return display::json(&memo);
            }
            display::memo(&memo);
        }
        MemoCommand::Edit { id, text, client } => {
            let text = text_argument(text)?;
            let memo = connect(config, &client)?.update_memo(id, &text).await?;
            if client.json {
                return display::json(&memo);
            }
            println!("updated memo {}", memo.id);
        }
        MemoCommand::Delete { id, client } => {
            connect(config, &client)?.delete_memo(id).await?;
            if !client.json {
                println!("deleted memo {id}");
            }
        }
    }
    Ok(())
}

async fn doc(config: &Config, command: DocCommand) -> anyhow::Result<()> {
    match command {
        DocCommand::List {
            state,
            tag,
            limit,
            cursor,
            client,
        } => {
            let mut query = DocumentListQuery {
                tag,
                limit: Some(limit),
                cursor,
                ..DocumentListQuery::default()
            };
            match state.as_deref() {
                Some("needs-attention") => query.needs_attention = Some(true),
                Some("ready") => query.md_draft_status = Some("draft".into()),
                Some(status @ ("accepted" | "rejected")) => {
                    query.md_draft_status = Some(status.into());
                }
                _ => query.draft_state = state,
            }
            let page = connect(config, &client)?.list_documents(&query).await?;
            if client.json {
                return display::json(&page);
            }
            display::document_list(&page);
        }
        DocCommand::Show { id, client } => {
            let document = connect(config, &client)?.get_document(id).await?;
            if client.json {
                return display::json(&document);
            }
            display::document(&document);
        }
        DocCommand::Delete { id, client } => {
            connect(config, &client)?.delete_document(id).await?;
            if !client.json {
                println!("deleted document {id}");
            }
        }
        DocCommand::Redraft { id, client } => {
            let document = connect(config, &client)?.redraft_document(id).await?;
            if client.json {
                return display::json(&document);
            }
            println!("document {id}: a new draft is queued");
        }
        DocCommand::Accept { id, client } => {
            let api = connect(config, &client)?;
            let document = api.get_document(id).await?;
            let input = AcceptDraftInput {
                md_content: None,
                version: Some(document.version),
            };
            let accepted = api.accept_draft(id, &input).await?;
            if client.json {
                return display::json(&accepted);
            }
            println!("document {id}: the draft is accepted");
        }
        DocCommand::Reject { id, client } => {
            let api = connect(config, &client)?;
            let document = api.get_document(id).await?;
            let input = RejectDraftInput {
                version: Some(document.version),
            };
            let rejected = api.reject_draft(id, &input).await?;
            if client.json {
                return display::json(&rejected);
            }
            println!("document {id}: the draft is rejected (it stays visible, marked rejected)");
        }
        DocCommand::Edit { id, client } => {
            let api = connect(config, &client)?;
            let document = api.get_document(id).await?;
            let Some(draft) = document
                .md_content
                .clone()
                .filter(|_| document.md_draft_status.is_some())
            else {
                bail!("document {id} has no draft to edit");
            };
            let edited = edit_in_editor(id, &draft)?;
            if edited.trim().is_empty() {
                bail!("the edited text is empty; nothing was accepted");
            }
            if edited == draft || edited == without_final_line_break(draft.clone()) {
                bail!(
                    "the draft was saved unchanged; nothing was accepted \
                     (`jaryo doc accept {id}` accepts it as it is)"
                );
            }
            // The version read before editing: if the draft changed meanwhile, the server
            // refuses (409) instead of accepting an edit of a text no longer there.
            let input = AcceptDraftInput {
                md_content: Some(edited),
                version: Some(document.version),
            };
            let accepted = api.accept_draft(id, &input).await?;
            if client.json {
                return display::json(&accepted);
            }
            println!("document {id}: your edited draft is accepted");
        }
    }
    Ok(())
}

/// Opens `text` in the person's editor ($VISUAL, else $EDITOR, else vi) and returns what they
/// saved, without the final line break editors add.
fn edit_in_editor(id: i64, text: &str) -> anyhow::Result<String> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|e| !e.trim().is_empty())
        })
        .map_or_else(
            || {
                // vi on a pipe or in a script would wait for keys that never come.
                use std::io::IsTerminal;
                anyhow::ensure!(
                    std::io::stdin().is_terminal(),
                    "no editor to edit the draft in: set $VISUAL or $EDITOR (standard input is \
                     not a terminal, so vi cannot be used)"
                );
                Ok("vi".to_owned())
            },
            Ok,
        )?;
    let file = DraftFile::create(id, text)?;
    // The editor setting may carry arguments (`code --wait`); a shell splits it as people
    // expect, with the file as its last argument.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&file.path)
        .status()
        .with_context(|| format!("cannot start the editor {editor:?}"))?;
    if !status.success() {
        bail!("the editor {editor:?} failed ({status}); nothing was accepted");
    }
    let edited = std::fs::read_to_string(&file.path).context("cannot read the edited draft")?;
    Ok(without_final_line_break(edited))
}

/// The file a draft is edited in: new, readable only by its owner, removed when dropped.
struct DraftFile {
    path: std::path::PathBuf,
}

impl DraftFile {
    fn create(id: i64, text: &str) -> anyhow::Result<Self> {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!(
            "jaryo-draft-{id}-{}-{}.md",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.subsec_nanos())
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("cannot make {} to edit the draft in", path.display()))?;
        file.write_all(text.as_bytes())
            .context("cannot write the draft to edit")?;
        Ok(Self { path })
    }
}

impl Drop for DraftFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn tag(config: &Config, command: TagCommand) -> anyhow::Result<()> {
    match command {
        TagCommand::List { client } => {
            let tags = connect(config, &client)?.list_tags().await?;
            if client.json {
                return display::json(&tags);
            }
            display::tag_list(&tags);
        }
        TagCommand::Rename { from, to, client } => {
            let renamed = connect(config, &client)?.rename_tag(&from, &to).await?;
            if client.json {
                return display::json(&renamed);
            }
            let from = from.trim().trim_start_matches('#');
            println!(
                "#{from} is now #{} in {}",
                renamed.tag,
                display::count(renamed.memos, "memo", "memos")
            );
        }
    }
    Ok(())
}
