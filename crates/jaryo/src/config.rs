//! Typed configuration, layered: flags over `JARYO_*` environment variables over `jaryo.toml`
//! over defaults.
//!
//! The file is `<data-dir>/jaryo.toml`, or the one named by `--config`. Environment variables
//! map onto the file's keys: `JARYO_LISTEN` is `listen`, and a section's keys take its name as
//! a prefix, so `JARYO_LLM_BASE_URL` is `base_url` under `[llm]`.
//!
//! Secrets (the API token, the model server's key, a database URL with a password) are held in
//! types whose `Debug` shows `[REDACTED]`, so a logged config never leaks them.
//!
//! A key of the file jaryo does not know (a typo such as `base_ur`) stops the start with an
//! error naming the key and the file: a setting silently ignored is worse than none. The known
//! keys are the ones [`Config`] serializes, so the check never drifts from the type.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Uncased, UncasedStr};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as JsonValue;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The configuration file's name inside the data directory.
pub const CONFIG_FILE_NAME: &str = "jaryo.toml";
/// Sections of the file; `JARYO_<SECTION>_<KEY>` sets `<key>` under `[<section>]`.
const SECTIONS: &[&str] = &[
    "llm", "draft", "fidelity", "chunk", "search", "postgres", "backup", "files",
];

/// Everything `jaryo serve` and `jaryo worker` read at start. Serialized (secrets as
/// `[REDACTED]`) by `jaryo config show`, and for the set of keys the file may hold.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct Config {
    /// Where the database, the token and the server's address file live.
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// The API token; generated into `<data-dir>/api-token` when unset.
    #[serde(deserialize_with = "lenient_secret", serialize_with = "redacted")]
    pub api_token: Option<SecretString>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The database: unset for the embedded SQLite file in the data directory, or a
    /// `postgres://` URL shared by several jaryo processes. A secret: it may hold a password.
    #[serde(deserialize_with = "lenient_secret", serialize_with = "redacted")]
    pub database_url: Option<SecretString>,
    /// Connection settings used when `database_url` is a PostgreSQL URL.
    pub postgres: PostgresSection,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// The model server and the gate in front of it.
    pub llm: LlmSection,
    /// The draft worker.
    pub draft: jaryo_worker::DraftConfig,
    /// The check of drafts against their memo.
    pub fidelity: jaryo_fidelity::FidelityConfig,
    /// How documents' original text is cut into chunks for search hits and answers.
    pub chunk: jaryo_text::ChunkConfig,
    /// Search on the SQLite store.
    pub search: SearchSection,
    /// Backups on a schedule (SQLite).
    pub backup: crate::backups::BackupSection,
    /// Files taken in (size limit, inbox folder) and the reading of their text.
    pub files: crate::files::FilesSection,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("jaryo-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8765)),
            api_token: None,
            max_body_bytes: 1024 * 1024,
            database_url: None,
            postgres: PostgresSection::default(),
            log_format: LogFormat::Text,
            llm: LlmSection::default(),
            draft: jaryo_worker::DraftConfig::default(),
            fidelity: jaryo_fidelity::FidelityConfig::default(),
            chunk: jaryo_text::ChunkConfig::default(),
            search: SearchSection::default(),
            backup: crate::backups::BackupSection::default(),
            files: crate::files::FilesSection::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[llm]`: the model server and the gate.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct LlmSection {
    #[serde(flatten)]
    pub client: jaryo_llm::LlmConfig,
    #[serde(flatten)]
    pub gate: jaryo_gate::GateConfig,
}

/// `[search]`: how searches rank on the SQLite store.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchSection {
    /// An unfiltered search ranks the newest this many matches of each kind (documents,
    /// memos) by relevance; older matches follow unranked, oldest first. Larger ranks
    /// more of a vague query's matches, at a fraction of a microsecond per match.
    pub rank_window: u32,
}

impl Default for SearchSection {
    fn default() -> Self {
        Self {
            rank_window: jaryo_store_sqlite::DEFAULT_RANK_WINDOW,
        }
    }
}

/// `[postgres]`: how jaryo uses a PostgreSQL database (when `database_url` names one).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSection {
    /// Connections this process holds at most (one more listens for draft notifications).
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing with 503.
    pub acquire_timeout_ms: u64,
    /// The longest one SQL statement may run before it is cancelled; 0 means no limit.
    pub statement_timeout_ms: u64,
    /// How long jaryo keeps retrying at start when the database cannot be reached.
    pub startup_wait_secs: u64,
    /// On PostgreSQL the LLM gate's slots are shared by every process on the database: a slot
    /// held by a process that died is freed after this many seconds.
    pub gate_lease_secs: u64,
}

impl Default for PostgresSection {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout_ms: 5_000,
            statement_timeout_ms: 30_000,
            startup_wait_secs: 30,
            gate_lease_secs: 15,
        }
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("cannot read the configuration file {file}: {message}")]
    Unreadable { file: PathBuf, message: String },
    #[error(
        "unknown key `{key}` in the configuration file {file} (`jaryo config default` lists every key)"
    )]
    UnknownKey { key: String, file: PathBuf },
    /// One line per bad value, each naming its key and where it was set. (Not a `source`:
    /// printed once, here.)
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl From<figment::Error> for ConfigError {
    fn from(error: figment::Error) -> Self {
        let lines: Vec<String> = error.into_iter().map(|one| describe(&one)).collect();
        Self::Invalid(lines.join("; "))
    }
}

/// `key listen: invalid type ... (in the file /x/jaryo.toml)`: the key as a person writes it
/// (`llm.base_url`, or `JARYO_LLM_BASE_URL` when set in the environment), never figment's
/// profile-prefixed path.
fn describe(error: &figment::Error) -> String {
    let key = error.path.join(".");
    let origin = error.metadata.as_ref().map(origin_of);
    match (key.is_empty(), origin) {
        (_, Some(Origin::Env)) if !key.is_empty() => format!(
            "{}: {} (environment variable JARYO_{})",
            key,
            error.kind,
            error.path.join("_").to_ascii_uppercase()
        ),
        (false, Some(origin)) => format!("{key}: {} ({})", error.kind, origin.describe()),
        (false, None) => format!("{key}: {}", error.kind),
        (true, Some(origin)) => format!("{} ({})", error.kind, origin.describe()),
        (true, None) => error.kind.to_string(),
    }
}

/// Where a value of the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    File(PathBuf),
    Default,
}

impl Origin {
    fn describe(&self) -> String {
        match self {
            Self::Flag => "flag".into(),
            Self::Env => "env".into(),
            Self::File(path) => format!("file {}", path.display()),
            Self::Default => "default".into(),
        }
    }
}

fn origin_of(metadata: &figment::Metadata) -> Origin {
    match &metadata.source {
        Some(figment::Source::File(path)) => Origin::File(path.clone()),
        _ if metadata.name.contains("environment") => Origin::Env,
        _ if metadata.name.contains("Overrides") => Origin::Flag,
        _ => Origin::Default,
    }
}

impl Config {
    /// Reads the configuration: `explicit_file` (from `--config`) or `<data-dir>/jaryo.toml`,
    /// then the process's `JARYO_*` variables, then `overrides`.
    pub fn load(explicit_file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_from(explicit_file, overrides, Env::prefixed("JARYO_"))
    }

    fn load_from(
        explicit_file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<Self, ConfigError> {
        extract(&Self::figment(explicit_file, overrides, env)?)
    }

    /// The layers, in order, with the file's keys checked.
    fn figment(
        explicit_file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<Figment, ConfigError> {
        let env = env.map(section_key);
        // The data directory decides where the file is, so find it first without the file.
        let file = match explicit_file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => path.to_owned(),
            None => {
                let early: Config = Figment::new()
                    .merge(env.clone())
                    .merge(Serialized::defaults(overrides))
                    .extract()?;
                early.data_dir.join(CONFIG_FILE_NAME)
            }
        };
        let mut figment = Figment::new();
        if file.exists() {
            check_known_keys(&file)?;
            figment = figment.merge(Toml::file_exact(file));
        }
        Ok(figment.merge(env).merge(Serialized::defaults(overrides)))
    }

    /// The configuration in effect as TOML, each value with where it came from (flag, env,
    /// file or default) and secrets redacted: what `jaryo config show` prints.
    pub fn show(
        explicit_file: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<String, ConfigError> {
        Self::show_from(explicit_file, overrides, Env::prefixed("JARYO_"))
    }

    fn show_from(
        explicit_file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<String, ConfigError> {
        let figment = Self::figment(explicit_file, overrides, env)?;
        let config = extract(&figment)?;
        let value = serde_json::to_value(&config).expect("the configuration serializes");
        let origin = |key: &str| {
            figment
                .find_metadata(key)
                .map(origin_of)
                .unwrap_or(Origin::Default)
        };
        let mut top = String::new();
        let mut sections = String::new();
        for (key, value) in value.as_object().expect("a table") {
            match value {
                JsonValue::Object(table) => {
                    sections.push_str(&format!("\n[{key}]\n"));
                    for (inner, value) in table {
                        let path = format!("{key}.{inner}");
                        sections.push_str(&show_line(inner, value, &origin(&path)));
                    }
                }
                value => top.push_str(&show_line(key, value, &origin(key))),
            }
        }
        Ok(format!(
            "# The configuration in effect; after each value, where it came from\n\
             # (flag, env, file or default). Secrets are shown as [REDACTED].\n{top}{sections}"
        ))
    }

    /// `<data-dir>/api-token`.
    pub fn token_file(&self) -> PathBuf {
        self.data_dir.join("api-token")
    }

    /// `<data-dir>/server.json`: where a running server says it listens.
    pub fn address_file(&self) -> PathBuf {
        self.data_dir.join("server.json")
    }
}

/// The configuration the layers of `figment` make.
fn extract(figment: &Figment) -> Result<Config, ConfigError> {
    figment.extract::<Config>().map_err(|error| {
        // `[llm]` is two flattened structs, and serde reports a bad value inside a flattened
        // struct at the section itself (`llm`); read each part alone to name the key.
        if error.path != ["llm"] {
            return error.into();
        }
        let precise = figment
            .extract_inner::<jaryo_llm::LlmConfig>("llm")
            .err()
            .or_else(|| figment.extract_inner::<jaryo_gate::GateConfig>("llm").err());
        let Some(precise) = precise else {
            return error.into();
        };
        let mut lines = Vec::new();
        for mut one in precise {
            if one.path.first().map(String::as_str) != Some("llm") {
                one.path.insert(0, "llm".to_owned());
            }
            lines.push(describe(&one));
        }
        ConfigError::Invalid(lines.join("; "))
    })
}

/// One `key = value  # origin` line; an unset key is shown commented out.
fn show_line(key: &str, value: &JsonValue, origin: &Origin) -> String {
    let origin = origin.describe();
    match value {
        JsonValue::Null => format!("# {key} is unset  # {origin}\n"),
        value => {
            let text = toml::Value::try_from(value)
                .map(|value| value.to_string())
                .unwrap_or_else(|_| value.to_string());
            format!("{key} = {text}  # {origin}\n")
        }
    }
}

/// Refuses a key of `file` that [`Config`] does not have, at any depth.
fn check_known_keys(file: &Path) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|error| ConfigError::Unreadable {
        file: file.to_owned(),
        message: error.to_string(),
    })?;
    // A file that is not TOML is reported by figment with its line; only keys are checked here.
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let known = serde_json::to_value(Config::default()).expect("the configuration serializes");
    match first_unknown_key(&table, &known, "") {
        Some(key) => Err(ConfigError::UnknownKey {
            key,
            file: file.to_owned(),
        }),
        None => Ok(()),
    }
}

fn first_unknown_key(table: &toml::Table, known: &JsonValue, prefix: &str) -> Option<String> {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match known.get(key) {
            None => return Some(path),
            Some(known @ JsonValue::Object(_)) => {
                if let toml::Value::Table(inner) = value
                    && let Some(unknown) = first_unknown_key(inner, known, &path)
                {
                    return Some(unknown);
                }
            }
            Some(_) => {}
        }
    }
    None
}

fn redacted<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_str("[REDACTED]"),
        None => serializer.serialize_none(),
    }
}

/// `llm_base_url` → `llm.base_url`; top-level keys stay as they are.
fn section_key(key: &UncasedStr) -> Uncased<'_> {
    let lowercase = key.as_str().to_ascii_lowercase();
    for section in SECTIONS {
        if let Some(rest) = lowercase
            .strip_prefix(section)
            .and_then(|r| r.strip_prefix('_'))
        {
            return format!("{section}.{rest}").into();
        }
    }
    key.into()
}

/// Environment values are typed by their look (`123` is a number), but a secret is always
/// text: accept either.
fn lenient_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Integer(i128),
        Float(f64),
    }
    Ok(
        Option::<TextOrNumber>::deserialize(deserializer)?.map(|value| {
            SecretString::from(match value {
                TextOrNumber::Text(text) => text,
                TextOrNumber::Integer(n) => n.to_string(),
                TextOrNumber::Float(n) => n.to_string(),
            })
        }),
    )
}

/// A float as TOML writes it (`2.0`, not `2`).
fn toml_float(value: f64) -> String {
    format!("{value:?}")
}

/// A commented `jaryo.toml` holding every default, printed by `jaryo config default`.
pub fn default_toml() -> String {
    let defaults = Config::default();
    let gate = &defaults.llm.gate;
    let client = &defaults.llm.client;
    let draft = &defaults.draft;
    let fidelity = toml::to_string(&defaults.fidelity).unwrap_or_default();
    format!(
        r#"# jaryo configuration. Every key is optional; the values below are the defaults.
# Precedence: command-line flags > JARYO_* environment variables > this file > defaults.
# A key under a section maps to JARYO_<SECTION>_<KEY>, e.g. [llm] base_url = JARYO_LLM_BASE_URL.

# Where the database (jaryo.db), the API token and the server's address file live.
# (Only meaningful in a file given with --config; the default file lives in this directory.)
data_dir = "{data_dir}"

# Address of the HTTP server and web UI. Keep it on loopback unless a proxy with TLS fronts it.
listen = "{listen}"

# The bearer token clients must send. When unset, one is generated at first start into
# <data_dir>/api-token (mode 0600). Prefer JARYO_API_TOKEN over writing it here.
# api_token = "..."

# Largest request body accepted, in bytes; larger requests get 413.
max_body_bytes = {max_body_bytes}

# The database. Unset: the embedded SQLite file <data_dir>/jaryo.db. A postgres:// URL lets
# several jaryo processes or machines share one PostgreSQL database (settings under
# [postgres]). It may hold a password: prefer JARYO_DATABASE_URL over writing it here.
# database_url = "postgres://jaryo@127.0.0.1:5432/jaryo"

# Log lines as "text" or "json". The level is set with RUST_LOG (default: info).
log_format = "text"

[llm]
# Any OpenAI-compatible server: Ollama (http://127.0.0.1:11434/v1), llama.cpp server
# (http://127.0.0.1:8080/v1), vLLM, MLX-LM, LM Studio (http://127.0.0.1:1234/v1), hosted APIs.
base_url = "{base_url}"
model = "{model}"
# api_key = "..."            # prefer JARYO_LLM_API_KEY; never logged
# fallback_model = "..."     # asked when the model is missing or its server unreachable
# fallback_base_url = "..."  # where the fallback lives, if elsewhere
# temperature = 0.2
# max_tokens = 2048
# Stream answers; needed for the first-token and idle timeouts.
stream = {stream}
# Patience for slow local models, in seconds: a generation that keeps producing tokens is
# never cut short by anything but the overall cap.
connect_timeout_secs = {connect}
first_token_timeout_secs = {first_token}
idle_timeout_secs = {idle}
total_timeout_secs = {total}
# Concurrent model calls, shared by every caller in this process (the LLM gate).
concurrency = {concurrency}
# Let a person's call stop a background draft to take its slot (the draft re-queues).
preempt = {preempt}
# A background call waiting this long is served before newer interactive calls.
background_max_wait_ms = {background_max_wait_ms}

[draft]
# Whether this process drafts; turn it off on API nodes when `jaryo worker`s elsewhere do.
enabled = {draft_enabled}
# The worker wakes the moment a memo is promoted; this tick (seconds) is only a safety net.
interval_secs = {interval_secs}
# Documents claimed per round.
batch_size = {batch_size}
# Drafts in flight at once; 0 = as many as the gate has slots.
parallelism = {parallelism}
# Model calls per draft before it is marked failed (the person can retry).
max_attempts = {max_attempts}
# Retry delays double from the base, with jitter, up to the cap (milliseconds).
backoff_base_ms = {backoff_base_ms}
backoff_max_ms = {backoff_max_ms}
# A claim lapses after this many seconds unless renewed; a crashed worker's draft is then
# taken over.
lease_secs = {lease_secs}
# On shutdown, drafts in flight get this long to finish before they are handed back.
shutdown_grace_secs = {shutdown_grace_secs}
# When a draft holds facts the memo does not, ask once more, more strictly, and keep the better.
redraft_on_flags = {redraft_on_flags}

[chunk]
# Documents' original text is cut into chunks that follow headings and paragraphs; a search
# hit points at its best chunk. Changing these re-chunks every document at the next start.
# Largest chunk, in characters.
max_chars = {chunk_max_chars}
# Characters a piece of a split paragraph repeats from the previous piece.
overlap_chars = {chunk_overlap_chars}

[search]
# An unfiltered search on SQLite ranks the newest this many matches of each kind by
# relevance; older matches follow unranked. Larger ranks more of a vague query's matches.
rank_window = {search_rank_window}

[fidelity]
# How drafts are checked against their memo (numbers, dates, names, language, length).
{fidelity}
[postgres]
# Used when database_url is a postgres:// URL.
# Connections this process holds at most (plus one that listens for draft notifications).
max_connections = {pg_max_connections}
# A request waiting this long for a free connection fails with 503.
acquire_timeout_ms = {pg_acquire_timeout_ms}
# A single SQL statement running longer is cancelled (0: no limit).
statement_timeout_ms = {pg_statement_timeout_ms}
# At start, keep retrying an unreachable database this long before giving up.
startup_wait_secs = {pg_startup_wait_secs}
# The LLM gate's slots ([llm] concurrency) are shared by every process on the database; a slot
# held by a process that died is freed after this many seconds.
gate_lease_secs = {pg_gate_lease_secs}

[files]
# The largest file taken in (POST /api/v1/files, jaryo add, the inbox), in bytes.
max_bytes = {files_max_bytes}
# A folder jaryo serve watches: files dropped there are taken in and moved to done/ or failed/
# (with a .reason.txt beside them).
# inbox = "/home/me/jaryo-inbox"
# Seconds between two looks at the inbox.
inbox_every_seconds = {files_inbox_every}
# Attempts before a file whose reading keeps failing ends failed (a broken or encrypted file
# ends at once).
max_attempts = {files_max_attempts}
# The longest one file may be read for, in seconds.
deadline_seconds = {files_deadline}
"#,
        files_max_bytes = defaults.files.max_bytes,
        files_inbox_every = toml_float(defaults.files.inbox_every_seconds),
        files_max_attempts = defaults.files.max_attempts,
        files_deadline = toml_float(defaults.files.deadline_seconds),
        data_dir = defaults.data_dir.display(),
        listen = defaults.listen,
        chunk_max_chars = defaults.chunk.max_chars,
        chunk_overlap_chars = defaults.chunk.overlap_chars,
        search_rank_window = defaults.search.rank_window,
        max_body_bytes = defaults.max_body_bytes,
        pg_max_connections = defaults.postgres.max_connections,
        pg_acquire_timeout_ms = defaults.postgres.acquire_timeout_ms,
        pg_statement_timeout_ms = defaults.postgres.statement_timeout_ms,
        pg_startup_wait_secs = defaults.postgres.startup_wait_secs,
        pg_gate_lease_secs = defaults.postgres.gate_lease_secs,
        base_url = client.base_url,
        model = client.model,
        stream = client.stream,
        connect = client.connect_timeout_secs,
        first_token = client.first_token_timeout_secs,
        idle = client.idle_timeout_secs,
        total = client.total_timeout_secs,
        concurrency = gate.concurrency,
        preempt = gate.preempt,
        background_max_wait_ms = gate.background_max_wait_ms,
        draft_enabled = draft.enabled,
        interval_secs = draft.interval_secs,
        batch_size = draft.batch_size,
        parallelism = draft.parallelism,
        max_attempts = draft.max_attempts,
        backoff_base_ms = draft.backoff_base_ms,
        backoff_max_ms = draft.backoff_max_ms,
        lease_secs = draft.lease_secs,
        shutdown_grace_secs = draft.shutdown_grace_secs,
        redraft_on_flags = draft.redraft_on_flags,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn no_env() -> Env {
        Env::prefixed("JARYO_TEST_NOTHING_SET_")
    }

    #[test]
    fn the_printed_default_file_parses_to_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jaryo.toml");
        std::fs::write(&file, default_toml()).unwrap();
        let config = Config::load_from(Some(&file), &Overrides::default(), no_env()).unwrap();
        let defaults = Config::default();
        assert_eq!(config.listen, defaults.listen);
        assert_eq!(config.data_dir, defaults.data_dir);
        assert_eq!(config.max_body_bytes, defaults.max_body_bytes);
        assert_eq!(config.llm.gate.concurrency, defaults.llm.gate.concurrency);
        assert_eq!(config.llm.client.base_url, defaults.llm.client.base_url);
        assert_eq!(config.draft, defaults.draft);
        assert_eq!(config.fidelity, defaults.fidelity);
        assert_eq!(config.search, defaults.search);
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jaryo.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\napi_token = 123456\n").unwrap();
        let overrides = Overrides {
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Overrides::default()
        };
        let config = Config::load_from(Some(&file), &overrides, no_env()).unwrap();
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.api_token.unwrap().expose_secret(), "123456");
    }

    #[test]
    fn the_file_in_the_data_dir_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "[llm]\nconcurrency = 3\n",
        )
        .unwrap();
        let overrides = Overrides {
            data_dir: Some(dir.path().to_owned()),
            ..Overrides::default()
        };
        let config = Config::load_from(None, &overrides, no_env()).unwrap();
        assert_eq!(config.llm.gate.concurrency, 3);
    }

    #[test]
    fn a_missing_explicit_file_is_an_error_and_bad_values_are_named() {
        let missing = Path::new("/nonexistent/jaryo.toml");
        assert!(matches!(
            Config::load_from(Some(missing), &Overrides::default(), no_env()),
            Err(ConfigError::MissingFile(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jaryo.toml");
        std::fs::write(&file, "listen = \"not an address\"\n").unwrap();
        let error = Config::load_from(Some(&file), &Overrides::default(), no_env())
            .unwrap_err()
            .to_string();
        assert!(error.contains("listen"), "{error}");
    }

    #[test]
    fn env_keys_map_onto_sections() {
        assert_eq!(section_key("llm_base_url".into()).as_str(), "llm.base_url");
        assert_eq!(section_key("LLM_BASE_URL".into()).as_str(), "llm.base_url");
        assert_eq!(
            section_key("draft_max_attempts".into()).as_str(),
            "draft.max_attempts"
        );
        assert_eq!(
            section_key("search_rank_window".into()).as_str(),
            "search.rank_window"
        );
        assert_eq!(section_key("data_dir".into()).as_str(), "data_dir");
        assert_eq!(section_key("api_token".into()).as_str(), "api_token");
    }

    #[test]
    fn the_database_url_is_a_redacted_secret_and_postgres_settings_map_from_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jaryo.toml");
        std::fs::write(
            &file,
            "database_url = \"postgres://jaryo:hunter2-secret@db:5432/notes\"\n\
             [postgres]\nmax_connections = 4\n",
        )
        .unwrap();
        let config = Config::load_from(Some(&file), &Overrides::default(), no_env()).unwrap();
        assert_eq!(
            config.database_url.as_ref().unwrap().expose_secret(),
            "postgres://jaryo:hunter2-secret@db:5432/notes"
        );
        assert_eq!(config.postgres.max_connections, 4);
        assert!(!format!("{config:?}").contains("hunter2"));
        assert_eq!(
            section_key("database_url".into()).as_str(),
            "database_url",
            "JARYO_DATABASE_URL is the top-level key"
        );
        assert_eq!(
            section_key("POSTGRES_STATEMENT_TIMEOUT_MS".into()).as_str(),
            "postgres.statement_timeout_ms"
        );
        // The printed default file leaves the database unset (SQLite) and holds [postgres].
        let printed = dir.path().join("printed.toml");
        std::fs::write(&printed, default_toml()).unwrap();
        let defaults = Config::load_from(Some(&printed), &Overrides::default(), no_env()).unwrap();
        assert!(defaults.database_url.is_none());
        assert_eq!(defaults.postgres, PostgresSection::default());
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let config = Config {
            api_token: Some(SecretString::from("hunter2-secret")),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
