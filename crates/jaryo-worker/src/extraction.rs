//! The extraction worker: reads the text of uploaded files with the format engines
//! (`jaryo-extract`), as the `extract` kind of the job queue.
//!
//! Each claim holds a lease renewed while the engine works (an engine is synchronous and runs
//! on a blocking thread; its own deadline bounds it). A file the engine cannot read the same
//! way twice (broken, encrypted, unsupported, a picture without OCR) ends at once in its
//! state with the engine's reason; what may pass on a second try (the store unreachable, the
//! engine's thread lost) backs off with jitter up to `max_attempts`, then ends `failed`. The
//! person retries from the API or the UI. Extraction is never done in a request.
//!
//! Architecture invariant: like the draft worker, this knows no SQL and no HTTP: it speaks to
//! the `Store` trait and to `jaryo_extract`'s functions.

use jaryo_domain::{Clock, DocumentId, PageSpan};
use jaryo_store::jobs::Backoff;
use jaryo_store::{
    ClaimRequest, ExtractedFile, JobClaim, JobKind, JobOutcome, Settled, Store, StoredFile,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `[files]` settings of the extraction worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractionConfig {
    /// Attempts before an extraction that keeps failing ends `failed`.
    pub max_attempts: u32,
    /// How long a claim holds without renewal.
    #[serde(with = "seconds")]
    pub lease: Duration,
    /// The longest one file may be read for.
    #[serde(with = "seconds")]
    pub deadline: Duration,
    /// How often the worker looks for work when nothing woke it (a safety net).
    #[serde(with = "seconds")]
    pub poll_interval: Duration,
}

impl Default for ExtractionConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            lease: Duration::from_secs(60),
            deadline: Duration::from_secs(120),
            poll_interval: Duration::from_secs(30),
        }
    }
}

mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(value.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let seconds = f64::deserialize(deserializer)?;
        Duration::try_from_secs_f64(seconds).map_err(serde::de::Error::custom)
    }
}

/// How one extraction ended, for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractionOutcome {
    /// The result was written (text, or the state the file ends in).
    Settled(jaryo_domain::ExtractionState),
    /// It failed and will be tried again.
    Retrying { error: String },
    /// It failed for the last time.
    Failed { error: String },
    /// The claim was lost, the document changed or went away: nothing was written.
    NotApplied(Settled),
}

/// Reads files' text, one at a time, for as long as it runs.
#[derive(Clone)]
pub struct ExtractionWorker {
    store: Arc<dyn Store>,
    config: ExtractionConfig,
    owner: String,
    clock: Arc<dyn Clock>,
    unit_random: Arc<dyn Fn() -> f64 + Send + Sync>,
}

impl std::fmt::Debug for ExtractionWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtractionWorker")
            .field("owner", &self.owner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

const BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(5),
    max: Duration::from_secs(600),
};

impl ExtractionWorker {
    pub fn new(
        store: Arc<dyn Store>,
        config: ExtractionConfig,
        owner: String,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            config,
            owner,
            clock,
            unit_random: Arc::new(rand::random::<f64>),
        }
    }

    fn claim_request(&self) -> ClaimRequest {
        ClaimRequest {
            owner: self.owner.clone(),
            lease: self.config.lease,
            limit: 1,
            max_attempts: self.config.max_attempts.max(1),
        }
    }

    fn limits(&self) -> jaryo_extract::Limits {
        jaryo_extract::Limits {
            deadline: self.config.deadline,
            ..jaryo_extract::Limits::default()
        }
    }

    /// Claims and reads due files until none is left; what became of each.
    pub async fn run_once(&self) -> Vec<(DocumentId, ExtractionOutcome)> {
        let mut done = Vec::new();
        loop {
            let claims = match self
                .store
                .claim_jobs(JobKind::Extract, &self.claim_request())
                .await
            {
                Ok(claims) => claims,
                Err(error) => {
                    tracing::warn!(%error, "cannot claim extraction work");
                    break;
                }
            };
            if claims.is_empty() {
                break;
            }
            for claim in claims {
                let document = claim.document_id;
                done.push((document, self.extract(claim).await));
            }
        }
        done
    }

    /// Reads one claimed file and settles the claim.
    pub async fn extract(&self, claim: JobClaim) -> ExtractionOutcome {
        let read = self.read_claimed(&claim).await;
        let (outcome, result) = match read {
            Ok(result) => (result.job_outcome(), Some(result)),
            Err(error) => {
                let outcome = if claim.attempt() >= self.config.max_attempts.max(1) {
                    JobOutcome::Failed { error }
                } else {
                    let at =
                        BACKOFF.retry_at(self.clock.now(), claim.attempt(), (self.unit_random)());
                    JobOutcome::RetryLater { error, at }
                };
                (outcome, None)
            }
        };
        match self
            .store
            .settle_extraction(&claim, &outcome, result.as_ref())
            .await
        {
            Ok(Settled::Applied) => match (&outcome, &result) {
                (_, Some(result)) => ExtractionOutcome::Settled(result.state()),
                (JobOutcome::Failed { error }, None) => ExtractionOutcome::Failed {
                    error: error.clone(),
                },
                (JobOutcome::RetryLater { error, .. }, None) => ExtractionOutcome::Retrying {
                    error: error.clone(),
                },
                _ => ExtractionOutcome::NotApplied(Settled::Applied),
            },
            Ok(other) => ExtractionOutcome::NotApplied(other),
            Err(error) => {
                // The lease lapses and the work is claimed again.
                tracing::warn!(%error, document = claim.document_id.0, "cannot settle an extraction");
                ExtractionOutcome::Retrying {
                    error: error.to_string(),
                }
            }
        }
    }

    /// The file's bytes through its engine; `Err` for what may pass on another try.
    async fn read_claimed(&self, claim: &JobClaim) -> Result<ExtractedFile, String> {
        let file = match self.store.files_of(&[claim.document_id]).await {
            Ok(mut files) => match files.pop() {
                Some(file) => file,
                None => return Err("the document no longer has a file".into()),
            },
            Err(error) => return Err(format!("the database could not be read: {error}")),
        };
        let limits = self.limits();
        if file.info.size > limits.max_input_bytes {
            return Ok(ExtractedFile::Unreadable {
                reason: format!(
                    "the file is too large to read: {} bytes, at most {} are read",
                    file.info.size, limits.max_input_bytes
                ),
            });
        }
        let bytes = self.read_bytes(&file).await?;
        let name = file.info.name.clone();
        let reading = tokio::task::spawn_blocking(move || {
            let outcome = jaryo_extract::extract(&bytes, &name, &limits);
            drop(bytes);
            outcome
        });
        let extracted = self.renewing_lease(claim, reading).await?;
        Ok(match extracted {
            Ok(extracted) => ExtractedFile::Text {
                pages: extracted
                    .pages
                    .iter()
                    .map(|page| PageSpan {
                        number: page.number,
                        start: page.start,
                        end: page.end,
                    })
                    .collect(),
                page_count: extracted.page_count,
                text: extracted.text,
                markdown: extracted.markdown,
                engine: extracted.engine,
            },
            Err(error) => {
                let reason = error.to_string();
                match error {
                    jaryo_extract::ExtractError::Unsupported { .. } => {
                        ExtractedFile::Unsupported { reason }
                    }
                    jaryo_extract::ExtractError::NeedsOcr { .. } => {
                        ExtractedFile::NeedsOcr { reason }
                    }
                    _ => ExtractedFile::Unreadable { reason },
                }
            }
        })
    }

    async fn read_bytes(&self, file: &StoredFile) -> Result<Vec<u8>, String> {
        let size = usize::try_from(file.info.size).map_err(|error| error.to_string())?;
        let mut bytes = Vec::with_capacity(size);
        for seq in 0..file.pieces {
            match self.store.read_file_piece(file.document_id, seq).await {
                Ok(Some(piece)) => bytes.extend_from_slice(&piece),
                Ok(None) => return Err("a piece of the stored file is missing".into()),
                Err(error) => return Err(format!("the stored file could not be read: {error}")),
            }
        }
        Ok(bytes)
    }

    /// Waits for the engine, renewing the claim's lease meanwhile.
    async fn renewing_lease<T>(
        &self,
        claim: &JobClaim,
        reading: tokio::task::JoinHandle<T>,
    ) -> Result<T, String> {
        let mut reading = std::pin::pin!(reading);
        let every = (self.config.lease / 3).max(Duration::from_millis(100));
        loop {
            tokio::select! {
                joined = &mut reading => {
                    return joined.map_err(|_| "the engine stopped unexpectedly while reading \
                                               the file".to_owned());
                }
                () = tokio::time::sleep(every) => {
                    match self.store.renew_job_lease(claim, self.config.lease).await {
                        Ok(true) => {}
                        Ok(false) => return Err("the claim was taken over".into()),
                        Err(error) => tracing::warn!(%error, "cannot renew an extraction lease"),
                    }
                }
            }
        }
    }

    /// Reads files whenever work appears, until `shutdown`.
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut wake = self.store.draft_signal().subscribe();
        tracing::info!(owner = %self.owner, "extraction worker started");
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            wake.borrow_and_update();
            let outcomes = tokio::select! {
                outcomes = self.run_once() => outcomes,
                () = shutdown.cancelled() => break,
            };
            for (document, outcome) in &outcomes {
                tracing::info!(document = document.0, ?outcome, "extraction");
            }
            let wait = match self.store.job_stats(JobKind::Extract).await {
                Ok(stats) => stats
                    .next_due
                    .and_then(|due| (due - self.clock.now()).to_std().ok())
                    .map_or(self.config.poll_interval, |until| {
                        until.min(self.config.poll_interval)
                    }),
                Err(_) => self.config.poll_interval,
            };
            tokio::select! {
                _ = wake.changed() => {}
                () = tokio::time::sleep(wait.max(Duration::from_millis(50))) => {}
                () = shutdown.cancelled() => break,
            }
        }
        tracing::info!(owner = %self.owner, "extraction worker stopped");
    }
}
