//! Fresh PostgreSQL databases for tests, and the one rule for when the PostgreSQL half of the
//! tests runs.
//!
//! Every test gets its own database, created from the admin URL in `JARYO_TEST_POSTGRES_URL`
//! (default [`DEFAULT_ADMIN_URL`]) and dropped when the [`TestDatabase`] is dropped (best
//! effort; leftovers are named `jaryo_test_*`).
//!
//! When the PostgreSQL tests run:
//! - `JARYO_TEST_POSTGRES_URL` is set: always. A server that cannot be reached fails the test.
//! - Not set, and a server answers at the default URL: they run.
//! - Not set, nothing answers, `CI=true`: every PostgreSQL test **fails**; CI never skips them.
//! - Not set, nothing answers, outside CI: each PostgreSQL test returns early, saying why.
//!
//! Skips are easy to miss in a passing test run, so when `JARYO_TEST_REPORT` names a file,
//! each PostgreSQL test appends one line to it (`postgres<TAB>ran|skipped|failed<TAB>detail`);
//! `scripts/test` prints the tally.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::io::Write;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Names the admin URL tests create their databases from.
pub const ADMIN_URL_VAR: &str = "JARYO_TEST_POSTGRES_URL";
/// Where tests look for PostgreSQL when [`ADMIN_URL_VAR`] is unset.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Names a file each PostgreSQL test reports to: ran or skipped, and why.
pub const REPORT_VAR: &str = "JARYO_TEST_REPORT";

/// How long the reachability probe waits for a server.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
enum Availability {
    Run { admin_url: String },
    Skip { reason: String },
}

static AVAILABILITY: OnceCell<Availability> = OnceCell::const_new();

/// Whether this run includes the PostgreSQL tests. `false` means skip (after it said why);
/// where skipping is not allowed (a configured server, or `CI=true`) it panics instead, with
/// the reason.
pub async fn postgres_available() -> bool {
    match availability().await {
        Availability::Run { .. } => true,
        Availability::Skip { reason } => {
            eprintln!("SKIPPED (PostgreSQL): {reason}");
            report("skipped", reason);
            false
        }
    }
}

async fn availability() -> &'static Availability {
    // A panic inside leaves the cell empty, so every PostgreSQL test fails with the reason.
    AVAILABILITY.get_or_init(decide).await
}

async fn decide() -> Availability {
    let configured = std::env::var(ADMIN_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty());
    let in_ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    let admin_url = configured
        .clone()
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.into());
    let shown = describe(&admin_url);
    match probe(&admin_url).await {
        Ok(()) => Availability::Run { admin_url },
        Err(cause) if configured.is_some() => required_but_missing(format!(
            "{ADMIN_URL_VAR} names a PostgreSQL server ({shown}) that cannot be used: {cause}"
        )),
        Err(cause) if in_ci => required_but_missing(format!(
            "CI=true and no PostgreSQL server answers at {shown} ({cause}). Under CI the \
             PostgreSQL tests must run: start a server or set {ADMIN_URL_VAR}."
        )),
        Err(cause) => Availability::Skip {
            reason: format!(
                "no PostgreSQL server answers at {shown} ({cause}); start one there or set \
                 {ADMIN_URL_VAR} to run the PostgreSQL half of the tests"
            ),
        },
    }
}

/// Fails the test: PostgreSQL was required here and is not there.
fn required_but_missing(reason: String) -> ! {
    report("failed", &reason);
    panic!("{reason}")
}

async fn probe(admin_url: &str) -> Result<(), String> {
    let options = PgConnectOptions::from_str(admin_url).map_err(|e| e.to_string())?;
    let mut connection = tokio::time::timeout(PROBE_TIMEOUT, options.connect())
        .await
        .map_err(|_| format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?;
    sqlx::query("SELECT 1")
        .execute(&mut connection)
        .await
        .map_err(|e| e.to_string())?;
    let _ = connection.close().await;
    Ok(())
}

/// The URL without its password, for messages.
fn describe(url: &str) -> String {
    crate::PostgresOptions::from_url(url)
        .map(|options| options.describe())
        .unwrap_or_else(|_| "(an unparseable URL)".into())
}

fn report(outcome: &str, detail: &str) {
    let Some(path) = std::env::var_os(REPORT_VAR) else {
        return;
    };
    // One short line per write, appended: lines from parallel tests do not interleave.
    let line = format!(
        "postgres\t{outcome}\t{}\n",
        detail.replace(['\n', '\t'], " ")
    );
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!("cannot write the test report {}: {error}", path.display());
    }
}

/// The store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: a SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database of the test's own ([`TestDatabase`]).
    Postgres,
}

impl Backend {
    /// Whether tests on this backend run here. SQLite always does; PostgreSQL as the module
    /// docs say (skipped saying why, or a panic where skipping is not allowed).
    pub async fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => postgres_available().await,
        }
    }
}

/// Declares tests written once as `async fn name(backend: Backend)` and runs each on both
/// stores, as `name::sqlite` and `name::postgres` (the latter skipped, saying why, where
/// PostgreSQL tests do not run; see [`testing`](crate::testing)). The calling crate needs
/// `tokio` (for `#[tokio::test]`).
///
/// ```ignore
/// jaryo_testkit::test_on_both_stores!(promote_makes_a_document_once);
/// async fn promote_makes_a_document_once(backend: Backend) {
///     let app = TestApp::spawn_on(backend).await;
///     // ...
/// }
/// ```
#[macro_export]
macro_rules! test_on_both_stores {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn sqlite() {
                    super::$test($crate::testing::Backend::Sqlite).await;
                }

                #[tokio::test]
                async fn postgres() {
                    if $crate::testing::Backend::Postgres.available().await {
                        super::$test($crate::testing::Backend::Postgres).await;
                    }
                }
            }
        )+
    };
}

/// A database of its own for one test, dropped with this value.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDatabase {
    /// A fresh, empty database, or `None` when the PostgreSQL tests are skipped here (see the
    /// module docs). Panics when it cannot be created although PostgreSQL is available.
    pub async fn create() -> Option<Self> {
        if !postgres_available().await {
            return None;
        }
        let Availability::Run { admin_url } = availability().await else {
            unreachable!("postgres_available said the tests run");
        };
        let name = unique_name();
        let mut admin = admin_connection(admin_url).await;
        // Identifiers cannot be bound as parameters; `name` is ours and only [a-z0-9_].
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {}",
            identifier(&name)
        )))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let _ = admin.close().await;
        let url = PgConnectOptions::from_str(admin_url)
            .expect("the admin URL parsed before")
            .database(&name)
            .to_url_lossy()
            .to_string();
        report("ran", &name);
        Some(Self {
            name,
            url,
            admin_url: admin_url.clone(),
        })
    }

    /// The database's URL, as `JARYO_DATABASE_URL` would hold it.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Store options for this database, with the defaults.
    pub fn options(&self) -> crate::PostgresOptions {
        crate::PostgresOptions::from_url(&self.url).expect("the test database URL is valid")
    }

    /// Refuses (or allows again) every new connection to this database: the database as seen
    /// from jaryo "goes away" while the server keeps running for the other tests.
    pub async fn allow_connections(&self, allowed: bool) {
        let mut admin = admin_connection(&self.admin_url).await;
        let sql = if allowed {
            format!(
                "ALTER DATABASE {} WITH ALLOW_CONNECTIONS true",
                identifier(&self.name)
            )
        } else {
            format!(
                "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false",
                identifier(&self.name)
            )
        };
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .expect("ALTER DATABASE");
        let _ = admin.close().await;
    }

    /// Ends the server processes of this database's connections, all of them or those whose
    /// `application_name` is `application` (`jaryo`, `jaryo-listener`). Returns how many.
    pub async fn terminate_connections(&self, application: Option<&str>) -> i64 {
        let mut admin = admin_connection(&self.admin_url).await;
        let ended: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid() \
             AND ($2::text IS NULL OR application_name = $2)",
        )
        .bind(&self.name)
        .bind(application)
        .fetch_one(&mut admin)
        .await
        .expect("pg_terminate_backend");
        let _ = admin.close().await;
        ended
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with a
        // runtime of its own does the work. Best effort: a leftover is only disk space.
        let name = self.name.clone();
        let admin_url = self.admin_url.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let options = PgConnectOptions::from_str(&admin_url).ok()?;
                let mut admin = options.connect().await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", identifier(&name));
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

async fn admin_connection(admin_url: &str) -> PgConnection {
    PgConnectOptions::from_str(admin_url)
        .expect("the admin URL parsed before")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", describe(admin_url)))
}

/// `jaryo_test_<pid>_<micros>_<n>`: unique across parallel tests and test processes.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!(
        "jaryo_test_{}_{micros}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A quoted identifier for a name this module made.
fn identifier(name: &str) -> String {
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "not a test database name: {name}"
    );
    format!("\"{name}\"")
}

/// A TCP forwarder between jaryo and PostgreSQL that a test can cut and restore: the
/// database server "goes down" or the network fails (new connections refused, open ones
/// reset) while the real server keeps running for the other tests.
#[derive(Debug)]
pub struct TcpProxy {
    port: u16,
    upstream: (String, u16),
    running: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TcpProxy {
    /// A proxy on a free loopback port forwarding to the server behind `database`; it starts
    /// cut (nothing listens on its port) when `up` is false.
    pub async fn start(database: &TestDatabase, up: bool) -> Self {
        let options = PgConnectOptions::from_str(&database.url).expect("valid test URL");
        let upstream = (options.get_host().to_owned(), options.get_port());
        // Bind to learn a free port; restore() binds it again.
        let port = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let proxy = Self {
            port,
            upstream,
            running: std::sync::Mutex::new(None),
        };
        if up {
            proxy.restore().await;
        }
        proxy
    }

    /// `database`'s URL, reached through this proxy.
    pub fn url_for(&self, database: &TestDatabase) -> String {
        PgConnectOptions::from_str(&database.url)
            .expect("valid test URL")
            .host("127.0.0.1")
            .port(self.port)
            .to_url_lossy()
            .to_string()
    }

    /// Store options for `database` through this proxy.
    pub fn options_for(&self, database: &TestDatabase) -> crate::PostgresOptions {
        crate::PostgresOptions::from_url(&self.url_for(database)).expect("valid proxy URL")
    }

    /// Refuses new connections and resets every open one.
    pub async fn cut(&self) {
        let running = self.running.lock().expect("proxy mutex").take();
        if let Some(task) = running {
            task.abort();
            let _ = task.await;
        }
    }

    /// Accepts and forwards connections again, on the same port.
    pub async fn restore(&self) {
        self.cut().await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the proxy's port is free again");
        let upstream = self.upstream.clone();
        let task = tokio::spawn(async move {
            // Connections live in this set: aborting the accept task drops them all.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { continue };
                        let upstream = upstream.clone();
                        connections.spawn(async move {
                            if let Ok(mut server) =
                                tokio::net::TcpStream::connect((upstream.0.as_str(), upstream.1)).await
                            {
                                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            }
                        });
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        *self.running.lock().expect("proxy mutex") = Some(task);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some(task) = self.running.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
    }
}
