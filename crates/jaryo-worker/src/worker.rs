//! The draft worker: `draft` one claim, `run_once` one batch, `run` until shut down.

use crate::config::DraftConfig;
use crate::metrics::DraftMetrics;
use crate::prompt::{DraftPrompt, MemoLanguage, PROMPT_VERSION, Redraft};
use jaryo_domain::{Clock, DocumentId, TimeDelta, Timestamp};
use jaryo_fidelity::answer::Verdict;
use jaryo_fidelity::{FidelityConfig, FidelityReport, Finding};
use jaryo_gate::{CallCost, Gate, Priority};
use jaryo_model::{ChatModel, ChatRequest, Completion, HealthStatus, ModelError, ProbeBackoff};
use jaryo_store::{ClaimRequest, DraftClaim, Settled, Settlement, Store};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Text shorter than this, after trimming, is not worth a model call (the seed's rule).
pub const MIN_DRAFT_CHARS: usize = 20;

/// What the worker needs.
#[derive(Clone)]
pub struct WorkerParts {
    pub store: Arc<dyn Store>,
    /// The model drafts are asked of: any backend behind the seam.
    pub llm: Arc<dyn ChatModel>,
    pub gate: Gate,
    pub config: DraftConfig,
    pub fidelity: FidelityConfig,
    pub clock: Arc<dyn Clock>,
}

/// How one claim ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftOutcome {
    /// The draft was written. `flagged`: the fidelity check found something to look at.
    Drafted { flagged: bool, model_calls: u32 },
    /// Nothing to draft: the text is too short (no model call), or the model answered nothing.
    Skipped { reason: String },
    /// The attempt failed; the next one may start at `at`.
    Retrying { error: String, at: Timestamp },
    /// The last attempt failed, or the error will not go away by retrying.
    Failed { error: String },
    /// Given back without counting an attempt.
    Released { reason: ReleaseReason },
    /// The text changed while the model worked: the stale draft was discarded, the work queued
    /// again against the new text.
    Requeued,
    /// The document was deleted meanwhile.
    Dropped,
    /// Another worker holds the work now (this one's lease lapsed, or a redraft was asked for).
    LostClaim,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseReason {
    ModelServerDown,
    /// The cluster's shared model slots could not be had.
    GateUnavailable,
    ShuttingDown,
}

/// The draft worker. Cheap to clone.
#[derive(Clone)]
pub struct DraftWorker {
    inner: Arc<Inner>,
}

struct Inner {
    parts: WorkerParts,
    owner: String,
    metrics: Arc<DraftMetrics>,
    unit_random: Box<dyn Fn() -> f64 + Send + Sync>,
}

enum Generation {
    Answer {
        markdown: String,
        completion: Box<Completion>,
        report: FidelityReport,
        model_calls: u32,
        /// What the draft spends of the document's attempts: its model calls, or with
        /// sections the most any one section made.
        attempts: u32,
        stricter: bool,
        language: MemoLanguage,
        /// Sections drafted one by one ([`crate::sections`]); 1 for text within the budget.
        sections: usize,
    },
    Empty,
    /// The model answered, but not with a draft (an echo of the prompt, a reply about the
    /// note): a failed attempt, with the reason.
    Rejected(String),
    Failed(ModelError),
    GateUnavailable(jaryo_gate::SharedSlotError),
    Cancelled,
}

/// Section drafts are joined as paragraphs.
const SECTION_SEPARATOR: &str = "\n\n";

impl DraftWorker {
    pub fn new(parts: WorkerParts) -> Self {
        let owner = format!(
            "{}:{}:{:04x}",
            hostname(),
            std::process::id(),
            rand::random::<u16>()
        );
        Self::named(parts, owner)
    }

    /// A worker whose claims name `owner`: a name its process can recognise again after a
    /// restart, so that its dead predecessor's leases can be handed back at once
    /// ([`jaryo_store::Store::release_dead_leases`]).
    pub fn named(parts: WorkerParts, owner: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                parts,
                owner,
                metrics: Arc::new(DraftMetrics::default()),
                unit_random: Box::new(rand::random::<f64>),
            }),
        }
    }

    /// Replaces the jitter source (a function giving numbers in `[0, 1)`), for tests.
    pub fn with_jitter(
        parts: WorkerParts,
        unit_random: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Self {
        let worker = Self::new(parts);
        let inner = Arc::try_unwrap(worker.inner).unwrap_or_else(|_| unreachable!());
        Self {
            inner: Arc::new(Inner {
                unit_random: Box::new(unit_random),
                ..inner
            }),
        }
    }

    /// Who this worker says it is in claims.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    pub fn metrics(&self) -> Arc<DraftMetrics> {
        self.inner.metrics.clone()
    }

    fn parts(&self) -> &WorkerParts {
        &self.inner.parts
    }

    fn parallelism(&self) -> usize {
        match self.parts().config.parallelism {
            0 => self.parts().gate.config().concurrency.max(1),
            n => n,
        }
    }

    fn claim_request(&self, limit: usize) -> ClaimRequest {
        let config = &self.parts().config;
        ClaimRequest {
            owner: self.inner.owner.clone(),
            lease: config.lease(),
            limit: u32::try_from(limit).unwrap_or(u32::MAX).max(1),
            max_attempts: config.max_attempts.max(1),
        }
    }

    /// Claims one batch of due work and drafts it, one document after another, as the seed's
    /// tick did. The loop in [`DraftWorker::run`] is what runs in production; this is the unit
    /// tests drive directly.
    pub async fn run_once(&self) -> Vec<(DocumentId, DraftOutcome)> {
        let limit = self.parts().config.batch_size.max(1) as usize;
        let claims = match self
            .parts()
            .store
            .claim_drafts(&self.claim_request(limit))
            .await
        {
            Ok(claims) => claims,
            Err(error) => {
                tracing::warn!(%error, "cannot claim draft work");
                return Vec::new();
            }
        };
        let never = CancellationToken::new();
        let mut outcomes = Vec::with_capacity(claims.len());
        for claim in claims {
            let id = claim.document_id;
            outcomes.push((id, self.draft(claim, &never).await));
        }
        outcomes
    }

    /// Drafts the claimed document and settles the claim. `cancel` stops a generation in
    /// flight (shutdown); the claim is then released, never half-applied.
    pub async fn draft(&self, claim: DraftClaim, cancel: &CancellationToken) -> DraftOutcome {
        let started = Instant::now();
        let source = claim.text.trim();
        let text_chars = source.chars().count();
        if text_chars < MIN_DRAFT_CHARS {
            let settlement = Settlement::Skipped {
                reason: format!("the text is shorter than {MIN_DRAFT_CHARS} characters"),
                model_called: false,
                metadata: Map::new(),
            };
            let outcome = DraftOutcome::Skipped {
                reason: "too short".into(),
            };
            return self
                .finish(
                    &claim,
                    settlement,
                    outcome,
                    text_chars,
                    0,
                    CallCost::default(),
                    started,
                )
                .await;
        }

        let mut cost = CallCost::default();
        let generation = tokio::select! {
            generation = self.generate_within_budget(&claim, source, cancel, &mut cost) => {
                generation
            }
            () = self.hold_lease(&claim) => {
                tracing::warn!(
                    document_id = %claim.document_id,
                    "lost the claim while drafting (lease taken over or redraft asked); stopping"
                );
                self.inner.metrics.count(&DraftOutcome::LostClaim);
                return DraftOutcome::LostClaim;
            }
        };
        let (settlement, outcome, draft_chars) = match generation {
            Generation::Answer {
                markdown,
                completion,
                report,
                model_calls,
                attempts,
                stricter,
                language,
                sections,
            } => {
                let flagged = report.flagged;
                let draft_chars = markdown.chars().count();
                let mut metadata = self.draft_metadata(
                    &completion,
                    &report,
                    model_calls,
                    stricter,
                    language,
                    &cost,
                );
                if let Some(Value::Object(draft)) = metadata.get_mut("draft") {
                    draft.insert("sections".into(), json!(sections));
                }
                (
                    Settlement::Drafted {
                        markdown,
                        metadata,
                        model_calls: attempts,
                    },
                    DraftOutcome::Drafted {
                        flagged,
                        model_calls,
                    },
                    draft_chars,
                )
            }
            Generation::Empty => (
                Settlement::Skipped {
                    reason: "the model answered nothing".into(),
                    model_called: true,
                    metadata: Map::new(),
                },
                DraftOutcome::Skipped {
                    reason: "empty answer".into(),
                },
                0,
            ),
            Generation::Rejected(reason) => {
                let error = format!("the model did not write a draft: {reason}");
                (
                    Settlement::Failed {
                        error: error.clone(),
                    },
                    DraftOutcome::Failed { error },
                    0,
                )
            }
            Generation::Cancelled => (
                Settlement::Released,
                DraftOutcome::Released {
                    reason: ReleaseReason::ShuttingDown,
                },
                0,
            ),
            Generation::GateUnavailable(error) => {
                tracing::warn!(%error, "no shared model slot; giving the draft back");
                (
                    Settlement::Released,
                    DraftOutcome::Released {
                        reason: ReleaseReason::GateUnavailable,
                    },
                    0,
                )
            }
            Generation::Failed(error) if error.is_server_down() => (
                Settlement::Released,
                DraftOutcome::Released {
                    reason: ReleaseReason::ModelServerDown,
                },
                0,
            ),
            Generation::Failed(error) => {
                let message = error.to_string();
                let attempt = claim.attempt();
                let config = &self.parts().config;
                if error.is_retryable() && attempt < config.max_attempts {
                    let delay = config.backoff(attempt, (self.inner.unit_random)());
                    let at = self.parts().clock.now()
                        + TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX);
                    (
                        Settlement::RetryLater {
                            error: message.clone(),
                            at,
                        },
                        DraftOutcome::Retrying { error: message, at },
                        0,
                    )
                } else {
                    (
                        Settlement::Failed {
                            error: message.clone(),
                        },
                        DraftOutcome::Failed { error: message },
                        0,
                    )
                }
            }
        };
        self.finish(
            &claim,
            settlement,
            outcome,
            text_chars,
            draft_chars,
            cost,
            started,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        claim: &DraftClaim,
        settlement: Settlement,
        outcome: DraftOutcome,
        text_chars: usize,
        draft_chars: usize,
        cost: CallCost,
        started: Instant,
    ) -> DraftOutcome {
        let outcome = match self.parts().store.settle_draft(claim, &settlement).await {
            Ok(Settled::Applied) => outcome,
            Ok(Settled::Requeued) => DraftOutcome::Requeued,
            Ok(Settled::Dropped) => DraftOutcome::Dropped,
            Ok(Settled::LostClaim) => DraftOutcome::LostClaim,
            Err(error) => {
                // The claim stays as it was; its lease lapses and the work is taken up again.
                tracing::error!(document_id = %claim.document_id, %error, "cannot settle the draft");
                DraftOutcome::LostClaim
            }
        };
        self.inner.metrics.count(&outcome);
        tracing::info!(
            document_id = %claim.document_id,
            attempt = claim.attempt(),
            outcome = outcome_name(&outcome),
            text_chars,
            draft_chars,
            gate_wait_ms = cost.waited.as_millis() as u64,
            model_ms = cost.held.as_millis() as u64,
            preemptions = cost.preemptions,
            total_ms = started.elapsed().as_millis() as u64,
            "draft"
        );
        if let DraftOutcome::Failed { error } | DraftOutcome::Retrying { error, .. } = &outcome {
            tracing::warn!(document_id = %claim.document_id, %error, "draft attempt failed");
        }
        outcome
    }

    /// Resolves only when the claim is lost; renews the lease until then.
    async fn hold_lease(&self, claim: &DraftClaim) {
        let config = &self.parts().config;
        loop {
            tokio::time::sleep(config.renew_every()).await;
            match self
                .parts()
                .store
                .renew_draft_lease(claim, config.lease())
                .await
            {
                Ok(true) => {}
                Ok(false) => return,
                // A database hiccup: keep going; if it lasts, the lease lapses and another
                // worker takes over, and this one's settlement is then refused.
                Err(error) => tracing::warn!(%error, "cannot renew a draft lease"),
            }
        }
    }

    /// Drafts `source` in one call when it fits the context budget, else section by section
    /// ([`crate::sections`]), joining the drafts and checking the whole against the whole.
    async fn generate_within_budget(
        &self,
        claim: &DraftClaim,
        source: &str,
        cancel: &CancellationToken,
        cost: &mut CallCost,
    ) -> Generation {
        let sections = crate::sections::sections(source, self.parts().config.context_budget_chars);
        if sections.len() == 1 {
            return self.generate(claim, source, cancel, cost).await;
        }
        tracing::info!(
            document_id = %claim.document_id,
            sections = sections.len(),
            "the text is longer than the model's context budget; drafting it in sections"
        );
        let count = sections.len();
        let mut drafts = Vec::with_capacity(count);
        let (mut model_calls, mut attempts, mut stricter) = (0, 0, false);
        let mut first: Option<(Box<Completion>, MemoLanguage)> = None;
        // Wrappers removed from a section's answer (fence markers, commentary) are not in the
        // joined draft, so checking the whole cannot see them: they are carried over, moved to
        // where the section starts in the joined draft, so a section that needed cleaning
        // still flags the draft.
        let mut wrappers: Vec<Finding> = Vec::new();
        let mut offset = 0;
        for section in sections {
            if !drafts.is_empty() {
                offset += SECTION_SEPARATOR.len();
            }
            match self.generate(claim, section, cancel, cost).await {
                Generation::Answer {
                    markdown,
                    completion,
                    report,
                    model_calls: calls,
                    stricter: stricter_kept,
                    language,
                    ..
                } => {
                    wrappers.extend(
                        report
                            .findings
                            .into_iter()
                            .filter(|finding| finding.kind.is_echo())
                            .map(|finding| Finding {
                                start: finding.start + offset,
                                end: finding.end + offset,
                                ..finding
                            }),
                    );
                    offset += markdown.len();
                    drafts.push(markdown);
                    model_calls += calls;
                    attempts = attempts.max(calls);
                    stricter |= stricter_kept;
                    first.get_or_insert((completion, language));
                }
                // A section the model had nothing to say about stays as written: dropping it
                // would drop its facts.
                Generation::Empty => {
                    offset += section.len();
                    drafts.push(section.to_owned());
                    model_calls += 1;
                    attempts = attempts.max(1);
                }
                failed => return failed,
            }
        }
        let Some((completion, language)) = first else {
            return Generation::Empty;
        };
        let markdown = drafts.join(SECTION_SEPARATOR);
        let checked = jaryo_fidelity::check(source, &markdown, &self.parts().fidelity);
        let mut findings = checked.findings;
        findings.extend(wrappers);
        findings.sort_by_key(|finding| (finding.start, finding.kind));
        let report = FidelityReport::new(findings);
        Generation::Answer {
            markdown,
            completion,
            report,
            model_calls,
            attempts,
            stricter,
            language,
            sections: count,
        }
    }

    async fn generate(
        &self,
        claim: &DraftClaim,
        source: &str,
        cancel: &CancellationToken,
        cost: &mut CallCost,
    ) -> Generation {
        let prompt = DraftPrompt::new(source, rand::random());
        let completion = match self.call_model(&prompt.request, cancel, cost).await {
            Ok(completion) => completion,
            Err(Generation::Failed(ModelError::EmptyAnswer { .. })) => return Generation::Empty,
            Err(ended) => return ended,
        };
        let cleaned = prompt.clean_answer(&completion.text);
        if cleaned.is_empty() {
            return Generation::Empty;
        }
        let fidelity = &self.parts().fidelity;
        let first = Try {
            verdict: prompt.judge(source, &cleaned, fidelity),
            completion,
            stricter: false,
        };
        let needs_second = match &first.verdict {
            Verdict::Draft { report, .. } => report.flagged,
            Verdict::Rejected { .. } => true,
        };
        if !(needs_second && self.parts().config.redraft_on_flags) {
            return first.into_generation(1, prompt.language);
        }

        // The answer adds, loses or echoes: ask once more, naming what was wrong.
        let report = first.verdict.report();
        let mut redraft = Redraft {
            added: report
                .unsupported_items()
                .iter()
                .map(|item| item.text.to_owned())
                .collect(),
            dropped: report
                .dropped_items()
                .iter()
                .map(|item| item.text.to_owned())
                .collect(),
            echoed: first.verdict.is_rejected() || report.has_echo(),
        };
        if report.has_language_drift() {
            redraft.added.push(match prompt.language {
                MemoLanguage::Korean => "영어로 쓴 문장 (메모는 한국어입니다)".into(),
                MemoLanguage::Other => "sentences in another language than the note's".into(),
            });
        }
        let stricter = DraftPrompt::stricter(source, rand::random(), &redraft);
        tracing::info!(
            document_id = %claim.document_id,
            findings = report.findings.len(),
            rejected = first.verdict.is_rejected(),
            "the answer adds, loses or echoes; asking once more, more strictly"
        );
        let second = match self.call_model(&stricter.request, cancel, cost).await {
            Ok(second) => second,
            Err(Generation::Failed(error)) => {
                tracing::warn!(document_id = %claim.document_id, %error,
                    "the stricter second try failed; keeping the first answer");
                return first.into_generation(2, prompt.language);
            }
            Err(ended) => return ended,
        };
        let second_cleaned = stricter.clean_answer(&second.text);
        if second_cleaned.is_empty() {
            return first.into_generation(2, prompt.language);
        }
        let second = Try {
            verdict: stricter.judge(source, &second_cleaned, fidelity),
            completion: second,
            stricter: true,
        };
        let keep_second = match (&first.verdict, &second.verdict) {
            (Verdict::Rejected { .. }, _) => !second.verdict.is_rejected(),
            (Verdict::Draft { .. }, Verdict::Rejected { .. }) => false,
            (Verdict::Draft { report: a, .. }, Verdict::Draft { report: b, .. }) => {
                b.severity().is_better_than(&a.severity())
            }
        };
        if keep_second {
            second.into_generation(2, prompt.language)
        } else {
            first.into_generation(2, prompt.language)
        }
    }

    /// One model call through the gate at background priority ([`Gate::call`]: pre-empted by
    /// a person's call, it is dropped and made again without counting an attempt). A call
    /// that gives no answer ends the generation: `Err` holds how (failed, cancelled, no slot).
    async fn call_model(
        &self,
        request: &ChatRequest,
        cancel: &CancellationToken,
        cost: &mut CallCost,
    ) -> Result<Completion, Generation> {
        let llm = self.parts().llm.as_ref();
        let preemptions_before = cost.preemptions;
        let called = tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Generation::Cancelled),
            called = self.parts().gate.call(Priority::Background, cost, move || async move {
                let started = Instant::now();
                let answer = llm.complete(request.clone()).await;
                (answer, started.elapsed())
            }) => called.map_err(Generation::GateUnavailable),
        };
        for _ in preemptions_before..cost.preemptions {
            self.inner.metrics.preempted();
        }
        let (answer, took) = called?;
        self.inner.metrics.model_call(took);
        answer.map_err(Generation::Failed)
    }

    fn draft_metadata(
        &self,
        completion: &Completion,
        report: &FidelityReport,
        model_calls: u32,
        stricter: bool,
        language: MemoLanguage,
        cost: &CallCost,
    ) -> Map<String, Value> {
        let now = self.parts().clock.now();
        let mut metadata = Map::new();
        metadata.insert(
            "drafted_at".into(),
            json!(now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        metadata.insert(
            "draft".into(),
            json!({
                "model": completion.model,
                "server_model": completion.server_model,
                "fallback_used": completion.fallback_used,
                "prompt_version": PROMPT_VERSION,
                "prompt_language": match language {
                    MemoLanguage::Korean => "ko",
                    MemoLanguage::Other => "en",
                },
                "model_calls": model_calls,
                "stricter_retry_kept": stricter,
                "finish_reason": completion.finish_reason,
                "truncated": completion.truncated(),
                "model_ms": cost.held.as_millis() as u64,
                "gate_wait_ms": cost.waited.as_millis() as u64,
                "preemptions": cost.preemptions,
            }),
        );
        metadata.insert(
            "fidelity".into(),
            serde_json::to_value(report).unwrap_or(Value::Null),
        );
        metadata
    }

    /// Drafts until `shutdown` fires: wakes the moment work appears (the store's signal),
    /// drains while work is due, keeps up to `parallelism` drafts in flight, pauses while the
    /// model server is down, and sleeps no longer than the safety-net interval or the next
    /// retry's time. On shutdown, drafts in flight get `shutdown_grace` to finish; the rest are
    /// released.
    pub async fn run(&self, shutdown: CancellationToken) {
        let parallelism = self.parallelism();
        let store = self.parts().store.clone();
        let llm = self.parts().llm.as_ref();
        let mut wake = store.draft_signal().subscribe();
        let cancel_drafts = CancellationToken::new();
        let mut in_flight: JoinSet<DraftOutcome> = JoinSet::new();
        let mut paused = false;
        tracing::info!(owner = %self.inner.owner, parallelism, "draft worker started");
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if paused || llm.health().status == HealthStatus::Down {
                self.inner.metrics.set_paused(true);
                tracing::warn!(
                    reason = llm.health().last_error.as_deref().unwrap_or("unreachable"),
                    "the model server is down; drafting waits until it answers"
                );
                tokio::select! {
                    _ = llm.wait_until_healthy(ProbeBackoff::default()) => {
                        tracing::info!("the model server is back; drafting resumes");
                    }
                    () = shutdown.cancelled() => break,
                }
                self.inner.metrics.set_paused(false);
                paused = false;
                continue;
            }

            let free = parallelism.saturating_sub(in_flight.len());
            let mut claimed = 0;
            if free > 0 {
                let limit = free.min(self.parts().config.batch_size.max(1) as usize);
                // Mark the wake-up seen before looking, so work that appears after this claim
                // wakes the wait below.
                wake.borrow_and_update();
                match store.claim_drafts(&self.claim_request(limit)).await {
                    Ok(claims) => {
                        claimed = claims.len();
                        for claim in claims {
                            let worker = self.clone();
                            let cancel = cancel_drafts.clone();
                            in_flight.spawn(async move { worker.draft(claim, &cancel).await });
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot claim draft work; trying again shortly");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            () = shutdown.cancelled() => break,
                        }
                        continue;
                    }
                }
            }
            if claimed > 0 && in_flight.len() < parallelism {
                continue;
            }

            let sleep_for = if in_flight.len() < parallelism {
                self.until_next_due().await
            } else {
                self.parts().config.interval()
            };
            tokio::select! {
                Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                    match joined {
                        Ok(DraftOutcome::Released { reason: ReleaseReason::ModelServerDown }) => {
                            paused = true;
                        }
                        Ok(DraftOutcome::Released { reason: ReleaseReason::GateUnavailable }) => {
                            tokio::select! {
                                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                                () = shutdown.cancelled() => break,
                            }
                        }
                        _ => {}
                    }
                }
                Ok(()) = wake.changed() => {}
                () = tokio::time::sleep(sleep_for) => {}
                () = shutdown.cancelled() => break,
            }
        }

        let grace = tokio::time::sleep(self.parts().config.shutdown_grace());
        tokio::pin!(grace);
        if !in_flight.is_empty() {
            tracing::info!(
                in_flight = in_flight.len(),
                "shutting down: letting drafts in flight finish"
            );
        }
        while !in_flight.is_empty() {
            tokio::select! {
                _ = in_flight.join_next() => {}
                () = &mut grace, if !cancel_drafts.is_cancelled() => {
                    tracing::info!("shutdown grace over: releasing the drafts still in flight");
                    cancel_drafts.cancel();
                }
            }
        }
        tracing::info!("draft worker stopped");
    }

    /// How long to sleep when idle: until the next retry falls due or a lease lapses, at most
    /// the safety-net interval.
    async fn until_next_due(&self) -> Duration {
        let interval = self.parts().config.interval();
        match self.parts().store.draft_queue_stats().await {
            Ok(stats) => match stats.next_due {
                Some(due) => {
                    let wait = (due - self.parts().clock.now())
                        .to_std()
                        .unwrap_or(Duration::ZERO);
                    // A little past the due time, so the claim sees it due.
                    (wait + Duration::from_millis(5)).min(interval)
                }
                None => interval,
            },
            Err(_) => interval,
        }
    }
}

/// One answer of the model and what it is.
struct Try {
    verdict: Verdict,
    completion: Completion,
    stricter: bool,
}

impl Try {
    fn into_generation(self, model_calls: u32, language: MemoLanguage) -> Generation {
        match self.verdict {
            Verdict::Draft { markdown, report } => Generation::Answer {
                markdown,
                completion: Box::new(self.completion),
                report,
                model_calls,
                attempts: model_calls,
                stricter: self.stricter,
                language,
                sections: 1,
            },
            Verdict::Rejected { reason, .. } => Generation::Rejected(reason),
        }
    }
}

fn outcome_name(outcome: &DraftOutcome) -> &'static str {
    match outcome {
        DraftOutcome::Drafted { flagged: false, .. } => "drafted",
        DraftOutcome::Drafted { flagged: true, .. } => "drafted_flagged",
        DraftOutcome::Skipped { .. } => "skipped",
        DraftOutcome::Retrying { .. } => "retrying",
        DraftOutcome::Failed { .. } => "failed",
        DraftOutcome::Released { .. } => "released",
        DraftOutcome::Requeued => "requeued",
        DraftOutcome::Dropped => "dropped",
        DraftOutcome::LostClaim => "lost_claim",
    }
}

/// This machine's name, as a worker's lease owner shows it.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "jaryo".to_owned())
}
