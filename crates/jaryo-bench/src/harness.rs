//! What the benchmarks share: a real jaryo server in a child process, a lean HTTP load
//! generator, and latency reports.
//!
//! The server runs in its own process (this benchmark binary re-executed in "jaryo mode"), so
//! its memory can be measured on its own and its CPU is not the load generator's.

use anyhow::{Context, bail};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const JARYO_MODE: &str = "__jaryo";

/// When this process was started as a jaryo child, runs jaryo and exits. Call it first in
/// every benchmark's `main`.
pub fn run_jaryo_if_child() {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|arg| arg == JARYO_MODE) {
        let code = jaryo::run_from(args[1..].iter().cloned());
        std::process::exit(if code == std::process::ExitCode::SUCCESS {
            0
        } else {
            1
        });
    }
}

/// A `jaryo serve` in a child process.
pub struct ChildServer {
    child: Child,
    pub url: String,
    pub addr: std::net::SocketAddr,
    pub token: String,
    pub data_dir: PathBuf,
}

impl ChildServer {
    /// Starts `jaryo serve` on `data_dir` with the extra environment, and waits until it
    /// answers.
    pub fn start(data_dir: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let token = "bench-token".to_owned();
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args([JARYO_MODE, "serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("JARYO_API_TOKEN", &token)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().context("cannot start the jaryo child")?;
        let address_file = data_dir.join("server.json");
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = loop {
            if let Ok(bytes) = std::fs::read(&address_file)
                && let Ok(address) = serde_json::from_slice::<serde_json::Value>(&bytes)
                && let Some(url) = address["url"].as_str()
            {
                break url.to_owned();
            }
            if Instant::now() > deadline {
                bail!("the jaryo child did not start within a minute");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let addr = url
            .trim_start_matches("http://")
            .parse()
            .context("server address")?;
        Ok(Self {
            child,
            url,
            addr,
            token,
            data_dir: data_dir.to_owned(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's peak resident memory so far, from `/proc` (Linux).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(self.child.id())
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn stop(mut self) -> anyhow::Result<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Peak resident set size of a process, in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// One keep-alive HTTP/1.1 connection, as lean as a client gets.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    auth: String,
}

impl Connection {
    pub async fn open(addr: std::net::SocketAddr, token: &str) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: addr.to_string(),
            auth: format!("Bearer {token}"),
        })
    }

    /// Sends a request and reads the whole answer; the status and body.
    pub async fn send(
        &mut self,
        method: hyper::Method,
        path: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::AUTHORIZATION, &self.auth);
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(body.unwrap_or_default()))?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// A latency histogram in microseconds, 1 µs to 60 s.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Throughput and latency of one measured phase.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub ops: u64,
    pub elapsed: Duration,
    pub latency: Histogram<u64>,
}

impl Phase {
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Prints phases as a table.
pub fn print_phases(phases: &[Phase]) {
    println!(
        "  {:<28} {:>8} {:>10} {:>8} {:>8} {:>8}",
        "phase", "ops", "ops/s", "p50 ms", "p99 ms", "max ms"
    );
    for phase in phases {
        println!(
            "  {:<28} {:>8} {:>10.0} {:>8.2} {:>8.2} {:>8.2}",
            phase.name,
            phase.ops,
            phase.per_second(),
            phase.percentile_ms(0.50),
            phase.percentile_ms(0.99),
            phase.latency.max() as f64 / 1000.0,
        );
    }
}

/// `✓` or `✗` for a floor.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗ BELOW FLOOR" }
}

/// A request of a load phase: method, path, JSON body.
pub type Request = (hyper::Method, String, Option<Bytes>);

/// Sends `total` requests over `clients` keep-alive connections to `addr`, request `n` made by
/// `request(n)`; fails on any non-2xx answer. Throughput and latency.
pub async fn http_phase(
    addr: std::net::SocketAddr,
    token: &str,
    clients: usize,
    name: &str,
    total: u64,
    request: impl Fn(u64) -> Request + Clone + Send + 'static,
) -> anyhow::Result<Phase> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let mut connection = Connection::open(addr, token).await?;
        let next = next.clone();
        let request = request.clone();
        tasks.spawn(async move {
            let mut latency = latency_histogram();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let (method, path, body) = request(n);
                let sent = Instant::now();
                let (status, answer) = connection.send(method, &path, body).await?;
                if !(200..300).contains(&status) {
                    anyhow::bail!(
                        "{path} answered {status}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                }
                latency.record(sent.elapsed().as_micros().max(1) as u64)?;
            }
            anyhow::Ok(latency)
        });
    }
    let mut latency = latency_histogram();
    while let Some(result) = tasks.join_next().await {
        latency.add(result??)?;
    }
    Ok(Phase {
        name: name.to_owned(),
        ops: total,
        elapsed: started.elapsed(),
        latency,
    })
}

/// A `jaryo worker` in a child process (this binary in jaryo mode); killed when dropped.
pub struct ChildWorker {
    child: Child,
}

impl ChildWorker {
    pub fn start(data_dir: &Path, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args([JARYO_MODE, "worker", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        Ok(Self {
            child: command.spawn().context("cannot start a jaryo worker")?,
        })
    }
}

impl Drop for ChildWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
