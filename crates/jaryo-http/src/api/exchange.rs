//! The library in and out over HTTP: `GET /export` sends every memo and document as a zip
//! archive of Markdown with front matter (the layout of `jaryo export`); `POST /import` takes
//! a zip archive of notes (a zipped folder or Obsidian vault) and imports it as `jaryo import`
//! does, idempotently.
//!
//! Both go through temporary files, never whole in memory: the export is written to one and
//! streamed out, the upload is streamed into one (counting bytes against the limit) and
//! unpacked with the bounds of [`jaryo_exchange::archive`].

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::wire::ErrorJson;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use jaryo_exchange::archive::{ArchiveError, ArchiveLimits, unpack_notes};
use jaryo_exchange::{ImportError, ImportOptions, ZipSink, export_library, import_folder};
use serde::{Deserialize, Serialize};
use std::io::{Seek, Write};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

/// The largest archive `POST /import` takes.
pub const IMPORT_MAX_BYTES: u64 = 512 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/export", get(export))
        .route("/import", post(import))
}

/// Download the whole library: a zip archive of Markdown files with YAML front matter
/// (`memos/`, `documents/` holding what the person accepted, `originals/` beside accepted
/// drafts, `jaryo-export.json`), which opens as an Obsidian vault.
#[utoipa::path(get, path = "/api/v1/export", tag = "exchange",
    responses((status = 200, description = "The library as a zip archive",
        content_type = "application/zip")))]
pub async fn export(State(state): State<AppState>) -> Result<Response, ApiError> {
    let file = tempfile::tempfile().map_err(internal("cannot make a temporary file"))?;
    let mut sink = ZipSink::new(std::io::BufWriter::new(file));
    export_library(state.store.as_ref(), &mut sink, &|_| {})
        .await
        .map_err(|error| match error {
            jaryo_exchange::ExportError::Store(error) => ApiError::from(error),
            other => internal("the export failed")(other),
        })?;
    let mut file = sink
        .finish()
        .and_then(|writer| writer.into_inner().map_err(std::io::Error::other))
        .map_err(internal("cannot finish the archive"))?;
    file.flush()
        .map_err(internal("cannot finish the archive"))?;
    file.rewind()
        .map_err(internal("cannot finish the archive"))?;
    let length = file
        .metadata()
        .map_err(internal("cannot finish the archive"))?
        .len();
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = format!(
        "jaryo-export-{}.zip",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Parameters of `POST /import`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Read and check everything, write nothing.
    pub dry_run: Option<bool>,
    /// The vault's name when the archive does not hold one top folder (it keys the notes,
    /// so importing the same archive again finds them). Default `upload`.
    #[param(min_length = 1, max_length = 100)]
    pub name: Option<String>,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummaryJson {
    pub imported: u64,
    pub updated: u64,
    /// Notes already in the library as they are.
    pub unchanged: u64,
    /// Entries that are not notes (attachments, pictures), not taken in.
    pub other_files: u64,
    pub failed: Vec<ImportProblemJson>,
    /// Notes taken in with something to know (front matter kept in the text).
    pub warnings: Vec<ImportProblemJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportProblemJson {
    /// The note's path inside the archive's folder.
    pub path: String,
    pub reason: String,
}

/// Import a zip archive of Markdown and text notes (a zipped folder or Obsidian vault):
/// each note becomes a document, its front matter kept, its tags and dates applied.
/// Importing the same archive again adds nothing and updates what changed.
#[utoipa::path(post, path = "/api/v1/import", tag = "exchange",
    params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "A zip archive, at most 512 MiB, sent as `application/zip` or \
                       `application/octet-stream`"),
    responses(
        (status = 200, body = ImportSummaryJson),
        (status = 413, description = "The archive, or what it unpacks to, is too large",
            body = ErrorJson),
        (status = 415, description = "The body is not sent as `application/zip` or \
                                      `application/octet-stream`", body = ErrorJson),
        (status = 422, description = "The body is not a zip archive", body = ErrorJson),
    ))]
pub async fn import(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportSummaryJson>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let content_type = content_type.trim();
    if !["application/zip", "application/octet-stream"]
        .iter()
        .any(|accepted| content_type.eq_ignore_ascii_case(accepted))
    {
        return Err(ApiError::UnsupportedMediaType(
            "the body must be a zip archive sent as Content-Type: application/zip (or \
             application/octet-stream)"
                .into(),
        ));
    }
    let name = query.name.unwrap_or_else(|| "upload".to_owned());
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(ApiError::Invalid {
            field: Some("name".into()),
            message: "name must be 1 to 100 characters".into(),
        });
    }
    let upload = receive(body).await?;
    let folder = tempfile::tempdir().map_err(internal("cannot make a temporary folder"))?;
    let dest = folder.path().to_owned();
    let unpacked = tokio::task::spawn_blocking(move || {
        unpack_notes(upload, &dest, &name, ArchiveLimits::default())
    })
    .await
    .map_err(internal("the unpacking task failed"))?
    .map_err(|error| match error {
        ArchiveError::Io(error) => internal("cannot unpack the archive")(error),
        ArchiveError::TooLarge(_) | ArchiveError::TooManyEntries(_) => {
            ApiError::bad_request("archive_too_large", error.to_string())
        }
        other => ApiError::Invalid {
            field: None,
            message: other.to_string(),
        },
    })?;
    let options = ImportOptions {
        dry_run: query.dry_run.unwrap_or(false),
    };
    let summary = import_folder(state.store.as_ref(), &unpacked.root, options, &|_| {})
        .await
        .map_err(|error| match error {
            ImportError::Store(error) => ApiError::from(error),
            other => internal("the import failed")(other),
        })?;
    let problems = |list: Vec<jaryo_exchange::import::ItemProblem>| {
        list.into_iter()
            .map(|p| ImportProblemJson {
                path: p.path,
                reason: p.reason,
            })
            .collect()
    };
    Ok(Json(ImportSummaryJson {
        imported: summary.imported,
        updated: summary.updated,
        unchanged: summary.unchanged,
        other_files: summary.other_files + unpacked.other_files,
        failed: problems(summary.failed),
        warnings: problems(summary.warnings),
    }))
}

/// Streams the request body into a temporary file, refusing it once it passes the limit.
async fn receive(body: Body) -> Result<std::fs::File, ApiError> {
    let file = tempfile::tempfile().map_err(internal("cannot make a temporary file"))?;
    let mut out = tokio::fs::File::from_std(file);
    let mut received = 0u64;
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("body_unreadable", "the request body could not be read")
        })?;
        received += chunk.len() as u64;
        if received > IMPORT_MAX_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        out.write_all(&chunk)
            .await
            .map_err(internal("cannot store the upload"))?;
    }
    out.flush()
        .await
        .map_err(internal("cannot store the upload"))?;
    let mut file = out.into_std().await;
    file.rewind().map_err(internal("cannot store the upload"))?;
    Ok(file)
}

fn internal<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> ApiError {
    move |error| {
        tracing::error!(%error, "{what}");
        ApiError::Internal
    }
}
