//! What jaryo is doing: `GET /api/v1/status` for people and the UI, `GET /metrics` for
//! Prometheus. The first place to look when drafts are not coming.

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use jaryo_domain::DraftState;
use jaryo_gate::{GateSnapshot, SharedSlotsSnapshot, WaitHistogram};
use jaryo_model::HealthSnapshot;
use jaryo_store::{DocumentFilter, DraftQueueStats, PageRequest};
use jaryo_worker::{DraftMetricsSnapshot, MODEL_LATENCY_BUCKETS};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(status))
        .route("/metrics", get(metrics))
}

/// The model server as jaryo sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelStatus {
    pub base_url: String,
    pub model: String,
    #[schema(value_type = Object)]
    pub health: HealthSnapshot,
}

/// Draft work by state.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueStatus {
    #[schema(value_type = Object)]
    pub by_state: BTreeMap<DraftState, u64>,
    /// Pending work whose time has come.
    pub ready: u64,
    pub next_due: Option<chrono::DateTime<chrono::Utc>>,
}

/// A draft that gave up, with why.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailedDraft {
    pub document_id: i64,
    pub title: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The newest scheduled backup of the library.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastBackup {
    /// The backup's file name in the backup directory.
    pub file: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub bytes: u64,
}

/// Scheduled backups (`[backup] every_hours`): the newest one, if any has been made yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupsStatus {
    pub last: Option<LastBackup>,
}

/// The newest file of `dir`, passing over hidden ones (a backup being written is a hidden
/// partial file until it is whole).
fn newest_backup(dir: &std::path::Path) -> Option<LastBackup> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file = entry.file_name().into_string().ok()?;
            let meta = entry.metadata().ok()?;
            (!file.starts_with('.') && meta.is_file()).then_some(())?;
            Some(LastBackup {
                file,
                at: meta.modified().ok()?.into(),
                bytes: meta.len(),
            })
        })
        .max_by(|a, b| a.at.cmp(&b.at).then_with(|| a.file.cmp(&b.file)))
}

/// A draft that failed and will be tried again: not a failure yet, but not well either.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetryingDraft {
    pub document_id: i64,
    pub title: String,
    /// `pending` (waiting for its next attempt) or `running` (being tried again now).
    pub state: DraftState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed, in words safe to show.
    pub last_error: Option<String>,
    /// When the next attempt may start.
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Everything `GET /api/v1/status` reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusJson {
    pub model: ModelStatus,
    #[schema(value_type = Object)]
    pub gate: GateSnapshot,
    /// On PostgreSQL, the slots every process on the database shares: their number, holders and
    /// waiters by priority. Null on SQLite, or when the database could not be asked.
    #[schema(value_type = Option<Object>)]
    pub cluster_gate: Option<SharedSlotsSnapshot>,
    pub queue: QueueStatus,
    #[schema(value_type = Object)]
    pub worker: DraftMetricsSnapshot,
    /// Drafts that failed and will be tried again, newest first (at most 10).
    pub retrying: Vec<RetryingDraft>,
    pub recent_failures: Vec<FailedDraft>,
    /// Null when backups are not scheduled (or the library is on PostgreSQL).
    pub backups: Option<BackupsStatus>,
}

/// Model server health, the LLM gate's holders and waiters, the draft queue, the worker's
/// counters, the drafts being retried with their last error, and the latest failed drafts.
#[utoipa::path(get, path = "/api/v1/status", tag = "status",
    responses((status = 200, body = StatusJson)))]
pub async fn status(State(state): State<AppState>) -> Result<axum::Json<StatusJson>, ApiError> {
    let stats = state.store.draft_queue_stats().await?;
    let failed = state
        .store
        .list_documents(
            &DocumentFilter {
                draft_state: Some(DraftState::Failed),
                ..DocumentFilter::default()
            },
            PageRequest::new(Some(10), None),
        )
        .await?;
    let retrying = state
        .store
        .list_documents(
            &DocumentFilter {
                retrying: Some(true),
                ..DocumentFilter::default()
            },
            PageRequest::new(Some(10), None),
        )
        .await?;
    let cluster_gate = match state.gate.shared_slots() {
        Some(slots) => match slots.snapshot().await {
            Ok(snapshot) => Some(snapshot),
            Err(error) => {
                tracing::warn!(%error, "could not read the shared gate's slots");
                None
            }
        },
        None => None,
    };
    Ok(axum::Json(StatusJson {
        model: ModelStatus {
            base_url: state.llm.location().to_owned(),
            model: state.llm.model().to_owned(),
            health: state.llm.health(),
        },
        gate: state.gate.snapshot(),
        cluster_gate,
        queue: QueueStatus {
            by_state: stats.by_state,
            ready: stats.ready,
            next_due: stats.next_due,
        },
        worker: state.draft_metrics.snapshot(),
        retrying: retrying
            .items
            .into_iter()
            .map(|document| RetryingDraft {
                document_id: document.id.0,
                title: document.title,
                state: document.draft.state,
                attempts: document.draft.attempts,
                last_error: document.draft.last_error,
                next_attempt_at: document.draft.next_attempt_at,
            })
            .collect(),
        recent_failures: failed
            .items
            .into_iter()
            .map(|document| FailedDraft {
                document_id: document.id.0,
                title: document.title,
                attempts: document.draft.attempts,
                last_error: document.draft.last_error,
                updated_at: document.updated_at,
            })
            .collect(),
        backups: state.backup_dir.as_deref().map(|dir| BackupsStatus {
            last: newest_backup(dir),
        }),
    }))
}

/// Prometheus metrics: queue depth by state, drafts by outcome, model latency, gate waits by
/// priority, pre-emptions, model server health.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "status",
    responses((status = 200, description = "The metrics in the OpenMetrics text format",
        content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let snapshot = Snapshot {
        queue: state.store.draft_queue_stats().await?,
        gate: state.gate.snapshot(),
        worker: state.draft_metrics.snapshot(),
        model_up: state.llm.health().status == jaryo_model::HealthStatus::Up,
    };
    let mut registry = Registry::with_prefix("jaryo");
    registry.register_collector(Box::new(snapshot));
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &registry).map_err(|error| {
        tracing::error!(%error, "cannot encode metrics");
        ApiError::Internal
    })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    ))
}

/// The numbers of one scrape, taken together.
#[derive(Debug)]
struct Snapshot {
    queue: DraftQueueStats,
    gate: GateSnapshot,
    worker: DraftMetricsSnapshot,
    model_up: bool,
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// Cumulative `(le, count)` buckets turned into the per-bucket counts the encoder sums up,
/// ending with `+Inf`.
fn per_bucket(cumulative: impl Iterator<Item = (f64, u64)>, count: u64) -> Vec<(f64, u64)> {
    let mut previous = 0;
    let mut buckets: Vec<(f64, u64)> = cumulative
        .map(|(le, total)| {
            let here = total.saturating_sub(previous);
            previous = total;
            (le, here)
        })
        .collect();
    buckets.push((f64::INFINITY, count.saturating_sub(previous)));
    buckets
}

fn wait_histogram(
    encoder: &mut DescriptorEncoder,
    priority: &str,
    histogram: &WaitHistogram,
) -> Result<(), std::fmt::Error> {
    let buckets = per_bucket(
        histogram.buckets.iter().map(|b| (b.le, b.count)),
        histogram.count,
    );
    let mut family = encoder.encode_descriptor(
        "gate_wait_seconds",
        "How long model calls waited at the LLM gate, by priority",
        None,
        MetricType::Histogram,
    )?;
    let labels = [("priority", priority)];
    family
        .encode_family(&labels)?
        .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            histogram.sum_seconds,
            histogram.count,
            &buckets,
            None,
        )
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        {
            let mut family = encoder.encode_descriptor(
                "draft_queue_documents",
                "Documents by draft state",
                None,
                MetricType::Gauge,
            )?;
            for state in DraftState::ALL {
                let labels = [("state", state.as_str())];
                let value = ConstGauge::new(self.queue.count(*state) as i64);
                value.encode(family.encode_family(&labels)?)?;
            }
        }
        gauge(
            &mut encoder,
            "draft_queue_ready",
            "Pending drafts whose time has come",
            self.queue.ready as i64,
        )?;
        {
            let mut family = encoder.encode_descriptor(
                "drafts",
                "Drafts settled by this process, by outcome",
                None,
                MetricType::Counter,
            )?;
            let w = &self.worker;
            for (outcome, value) in [
                ("drafted", w.drafted),
                ("flagged", w.flagged),
                ("skipped", w.skipped),
                ("retried", w.retried),
                ("failed", w.failed),
                ("released", w.released),
                ("requeued", w.requeued),
                ("dropped", w.dropped),
                ("lost_claim", w.lost_claims),
            ] {
                let labels = [("outcome", outcome)];
                ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
            }
        }
        {
            let latency = &self.worker.model_latency;
            let cumulative = MODEL_LATENCY_BUCKETS
                .iter()
                .copied()
                .zip(latency.buckets.iter().copied().chain(std::iter::repeat(0)));
            let buckets = per_bucket(cumulative, latency.count);
            encoder
                .encode_descriptor(
                    "model_call_seconds",
                    "How long the draft worker's model calls took",
                    None,
                    MetricType::Histogram,
                )?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    latency.sum_seconds,
                    latency.count,
                    &buckets,
                    None,
                )?;
        }
        wait_histogram(
            &mut encoder,
            "interactive",
            &self.gate.wait_seconds.interactive,
        )?;
        wait_histogram(
            &mut encoder,
            "background",
            &self.gate.wait_seconds.background,
        )?;
        {
            let mut family = encoder.encode_descriptor(
                "gate_holders",
                "Model calls holding a gate slot now, by priority",
                None,
                MetricType::Gauge,
            )?;
            for (priority, value) in [
                ("interactive", self.gate.holders.interactive),
                ("background", self.gate.holders.background),
            ] {
                let labels = [("priority", priority)];
                ConstGauge::new(value as i64).encode(family.encode_family(&labels)?)?;
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "gate_waiters",
                "Model calls waiting at the gate now, by priority",
                None,
                MetricType::Gauge,
            )?;
            for (priority, value) in [
                ("interactive", self.gate.waiters.interactive),
                ("background", self.gate.waiters.background),
            ] {
                let labels = [("priority", priority)];
                ConstGauge::new(value as i64).encode(family.encode_family(&labels)?)?;
            }
        }
        counter(
            &mut encoder,
            "gate_preemptions",
            "Background model calls stopped to let a person's call through",
            self.gate.preemptions,
        )?;
        gauge(
            &mut encoder,
            "model_up",
            "Whether the model server answered its last call or probe",
            i64::from(self.model_up),
        )?;
        gauge(
            &mut encoder,
            "drafting_paused",
            "Whether drafting waits for the model server to come back",
            i64::from(self.worker.paused),
        )?;
        Ok(())
    }
}
