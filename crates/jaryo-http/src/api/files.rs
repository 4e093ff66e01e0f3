//! `/files`: files in, and a document's file out.
//!
//! `POST /files` reads a `multipart/form-data` body part by part and each part chunk by chunk,
//! writing the bytes into the store in pieces of [`FILE_PIECE_BYTES`] as they arrive while
//! hashing them; no file is ever whole in memory. Each file succeeds or fails on its own: an
//! empty one, one over the limit or one without a usable name is refused with its reason (its
//! remaining bytes read and dropped) and the next part goes on.
//!
//! `GET /documents/{id}/file` streams the bytes back a piece at a time. Nothing uploaded runs
//! in jaryo's origin: every answer carries `X-Content-Type-Options: nosniff` and a
//! Content-Security-Policy `sandbox`; only kinds a browser shows without running anything (PDF,
//! common images, plain text) are served inline, and everything else (HTML, SVG, XML, unknown)
//! as an attachment.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::wire::{DocumentJson, ErrorDetail, ErrorJson, FileResultJson, FileUploadJson};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jaryo_domain::{DocumentId, FileName};
use jaryo_store::files::{IncomingFile, IntakeError};
use jaryo_store::{JobKind, Store, StoredFile};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// The most file parts one request may carry.
pub const MAX_FILES_PER_REQUEST: usize = 1000;

/// Limits of the files API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    /// The largest file accepted, in bytes (`[files] max_bytes`).
    pub max_file_bytes: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: jaryo_domain::FILE_MAX_BYTES_DEFAULT,
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/files", post(upload_files))
        .route("/documents/{id}/file", get(download_file))
        .route("/documents/{id}/extraction/retry", post(retry_extraction))
}

/// Upload files: each part named `file` becomes a document (titled by its name, its text
/// read in the background; `extraction` says how far), or is found to hold the same bytes as
/// an earlier one (`duplicate`), or is refused with its reason. One result per part, in
/// order; the request is 201 when any file went in.
#[utoipa::path(post, path = "/api/v1/files", tag = "files",
    request_body(content = FileUploadForm, content_type = "multipart/form-data",
        description = "One or more parts named `file`, each with a `filename`"),
    responses(
        (status = 201, description = "At least one file went in (see each result)",
            body = FileUploadJson),
        (status = 200, description = "Every file was already in the library",
            body = FileUploadJson),
        (status = 413, description = "The (only) file is over the size limit", body = ErrorJson),
        (status = 415, description = "The body is not multipart/form-data", body = ErrorJson),
        (status = 422, description = "No file part, or no file could be taken in",
            body = ErrorJson),
    ))]
pub async fn upload_files(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let multipart = multipart_of(&headers, body)?;
    let mut answer = receive_files(&state, multipart).await;
    let results = &mut answer.results;
    if results.is_empty() {
        return Err(ApiError::Invalid {
            field: Some("file".into()),
            message: "no file: send one or more parts named `file`, each with a filename".into(),
        });
    }
    let stored = results.iter().any(|result| result.status == 201);
    let kept = results.iter().any(|result| result.document.is_some());
    if !kept && results.len() == 1 {
        // One file, refused: the request's status is that file's.
        let result = results.pop().expect("one result");
        let error = result.error.expect("a refused file has an error");
        let status = StatusCode::from_u16(result.status).unwrap_or(StatusCode::BAD_REQUEST);
        return Ok((status, Json(ErrorJson { error })).into_response());
    }
    let status = if stored {
        StatusCode::CREATED
    } else if kept {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(answer)).into_response())
}

/// The body as multipart/form-data; 415 if it is not.
pub(crate) fn multipart_of(
    headers: &HeaderMap,
    body: Body,
) -> Result<multer::Multipart<'static>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        ApiError::UnsupportedMediaType(
            "send files as multipart/form-data, one part named `file` each".into(),
        )
    })?;
    Ok(multer::Multipart::new(body.into_data_stream(), boundary))
}

/// Takes in every remaining part of `multipart`, each on its own: one result per part, the
/// documents with their file and extraction.
pub(crate) async fn receive_files(
    state: &AppState,
    mut multipart: multer::Multipart<'static>,
) -> FileUploadJson {
    let mut results = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => {
                // What came before stays in; the rest of the body is unreadable.
                results.push(refused_result(
                    "",
                    ApiError::bad_request(
                        "malformed_multipart",
                        format!("the multipart body cannot be read: {error}"),
                    ),
                ));
                break;
            }
        };
        if results.len() >= MAX_FILES_PER_REQUEST {
            results.push(refused_result(
                field.file_name().unwrap_or_default(),
                ApiError::bad_request(
                    "too_many_files",
                    format!("at most {MAX_FILES_PER_REQUEST} files in one request"),
                ),
            ));
            break;
        }
        results.push(take_in(state, field).await);
    }
    let mut documents: Vec<DocumentJson> = results
        .iter_mut()
        .filter_map(|result| result.document.take())
        .collect();
    if let Err(error) = attach_files(state.store.as_ref(), &mut documents).await {
        tracing::warn!(%error, "cannot describe the files just taken in");
    }
    let mut documents = documents.into_iter();
    for result in &mut results {
        if result.status < 300 {
            result.document = documents.next();
        }
    }
    FileUploadJson { results }
}

/// The shape of `POST /files`'s body, for the API document.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct FileUploadForm {
    /// One or more files; each part's `filename` is the document's file name.
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1)]
    file: Vec<Vec<u8>>,
}

fn refused_result(name: &str, error: ApiError) -> FileResultJson {
    FileResultJson {
        file_name: name.to_owned(),
        status: error.status().as_u16(),
        document: None,
        duplicate: false,
        error: Some(ErrorDetail {
            code: error.code().to_owned(),
            message: error.to_string(),
            document_id: None,
            current_version: None,
            field: None,
        }),
    }
}

/// Takes one part in; whatever happens, its bytes are read to the end so the next part can
/// follow.
async fn take_in(state: &AppState, mut field: multer::Field<'static>) -> FileResultJson {
    let given_name = field.file_name().map(str::to_owned);
    let label = given_name.clone().unwrap_or_default();
    if field.name() != Some("file") {
        drain(&mut field).await;
        return refused_result(
            &label,
            ApiError::Invalid {
                field: Some("file".into()),
                message: format!(
                    "a part named {:?} is not a file: name each file's part `file`",
                    field.name().unwrap_or_default()
                ),
            },
        );
    }
    let name = match given_name.as_deref().map(FileName::parse) {
        Some(Ok(name)) => name,
        Some(Err(_)) | None => {
            drain(&mut field).await;
            return refused_result(
                &label,
                ApiError::bad_request(
                    "invalid_file_name",
                    "the part has no usable filename: give each file its name",
                ),
            );
        }
    };
    match store_part(state, &name, &mut field).await {
        Ok(result) => result,
        Err(error) => {
            drain(&mut field).await;
            refused_result(name.as_str(), error)
        }
    }
}

async fn drain(field: &mut multer::Field<'static>) {
    while let Ok(Some(_)) = field.chunk().await {}
}

/// Streams a part into the store, a piece at a time.
async fn store_part(
    state: &AppState,
    name: &FileName,
    field: &mut multer::Field<'static>,
) -> Result<FileResultJson, ApiError> {
    let max = state.files.max_file_bytes;
    let mut incoming = IncomingFile::begin(state.store.as_ref(), max).await?;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => {
                incoming.abandon().await;
                return Err(ApiError::bad_request(
                    "malformed_multipart",
                    format!("the part of {name} cannot be read: {error}"),
                ));
            }
        };
        if let Err(error) = incoming.push(&chunk).await {
            incoming.abandon().await;
            return Err(intake_error(name, error));
        }
    }
    let intake = incoming
        .finish(name.clone(), |name, head| {
            jaryo_extract::sniff(name, head).media_type().to_owned()
        })
        .await
        .map_err(|error| intake_error(name, error))?;
    Ok(FileResultJson {
        file_name: name.as_str().to_owned(),
        status: if intake.duplicate { 200 } else { 201 },
        document: Some(intake.document.into()),
        duplicate: intake.duplicate,
        error: None,
    })
}

/// Why a file was refused, naming it.
fn intake_error(name: &FileName, error: IntakeError) -> ApiError {
    match error {
        IntakeError::Empty => ApiError::BadRequest {
            code: "empty_file",
            message: format!("{name} is empty: there is nothing to keep"),
        },
        IntakeError::TooLarge { max } => ApiError::FileTooLarge(format!(
            "{name} is larger than the limit of {} ({max} bytes)",
            human_bytes(max)
        )),
        IntakeError::Store(error) => error.into(),
    }
}

fn human_bytes(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// Fills `file` and `extraction` of the documents among `documents` that were made from a
/// file.
pub(crate) async fn attach_files(
    store: &dyn Store,
    documents: &mut [DocumentJson],
) -> Result<(), ApiError> {
    let ids: Vec<DocumentId> = documents
        .iter()
        .filter(|document| {
            matches!(
                document.content_origin,
                jaryo_domain::ContentOrigin::File | jaryo_domain::ContentOrigin::AiDrafted
            )
        })
        .map(|document| DocumentId(document.id))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let files = store.files_of(&ids).await?;
    for file in files {
        if let Some(document) = documents
            .iter_mut()
            .find(|document| document.id == file.document_id.0)
        {
            document.file = Some(file.info);
            document.extraction = Some(file.extraction);
        }
    }
    Ok(())
}

/// Parameters of `GET /documents/{id}/file`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// `true`: always as an attachment (a download), never shown in the browser.
    pub download: Option<bool>,
}

/// The original file of a document made from one, byte for byte, with its name and type.
#[utoipa::path(get, path = "/api/v1/documents/{id}/file", tag = "files",
    params(("id" = i64, Path), DownloadQuery),
    responses(
        (status = 200, description = "The file's bytes, with its media type",
            content_type = "application/octet-stream"),
        (status = 404, description = "No such document", body = ErrorJson),
        (status = 409, description = "The document was not made from a file (`no_file`)",
            body = ErrorJson),
    ))]
pub async fn download_file(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DownloadQuery>,
) -> Result<Response, ApiError> {
    let file = file_of(state.store.as_ref(), DocumentId(id)).await?;
    Ok(file_response(
        state.store.clone(),
        file,
        query.download.unwrap_or(false),
    ))
}

/// A live document's file: 404 when there is no such document, 409 `no_file` when the
/// document exists but was not made from a file (it is there; it has nothing to serve).
pub(crate) async fn file_of(store: &dyn Store, id: DocumentId) -> Result<StoredFile, ApiError> {
    match store.files_of(&[id]).await?.pop() {
        Some(file) => Ok(file),
        None => {
            // Tell a missing document from one without a file.
            store.get_document(id).await?;
            Err(ApiError::Conflict {
                code: "no_file",
                message: format!("document {} was not made from a file", id.0),
                details: Default::default(),
            })
        }
    }
}

/// Files a browser shows without running anything of theirs: shown inline (still sandboxed);
/// everything else is an attachment. Text is shown only under a text file's name: an SVG or
/// an HTML page read as text stays an attachment, whatever a browser might make of it.
fn shown_inline(media_type: &str, name: &str) -> bool {
    match media_type {
        "application/pdf" | "image/png" | "image/jpeg" | "image/gif" | "image/webp" => true,
        "text/plain" => FileName::parse(name).is_ok_and(|name| {
            matches!(
                name.extension().as_deref(),
                None | Some("txt" | "text" | "md" | "markdown" | "csv" | "tsv" | "log")
            )
        }),
        _ => false,
    }
}

/// The response carrying a stored file: streamed a piece at a time, never run in jaryo's
/// origin.
pub(crate) fn file_response(store: Arc<dyn Store>, file: StoredFile, download: bool) -> Response {
    let document = file.document_id;
    let pieces = file.pieces;
    let stream = futures::stream::unfold(0u32, move |seq| {
        let store = store.clone();
        async move {
            if seq >= pieces {
                return None;
            }
            let piece = match store.read_file_piece(document, seq).await {
                Ok(Some(bytes)) => Ok(Bytes::from(bytes)),
                Ok(None) => Err(std::io::Error::other("a piece of the file is missing")),
                Err(error) => {
                    tracing::error!(%error, document = document.0, seq, "cannot read a file piece");
                    Err(std::io::Error::other("the file cannot be read"))
                }
            };
            // After an error the stream ends: the client sees a short body.
            let next = if piece.is_ok() { seq + 1 } else { pieces };
            Some((piece, next))
        }
    });
    let inline = !download && shown_inline(&file.info.media_type, &file.info.name);
    let media_type = &file.info.media_type;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.info.size));
    headers.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&file.info.name, inline),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A PDF viewer does not start in a sandboxed document; a PDF runs no script of ours.
    let policy = if file.info.media_type == "application/pdf" && inline {
        "default-src 'none'; object-src 'self'; frame-ancestors 'self'"
    } else {
        "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
         frame-ancestors 'self'"
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// `inline` or `attachment`, with the name as ASCII (others replaced) and as UTF-8 (RFC 6266,
/// RFC 8187), so every browser saves it under its name.
fn content_disposition(name: &str, inline: bool) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

/// Read a document's file again: after a failure, or to use a newer engine. Attempts start
/// again at zero.
#[utoipa::path(post, path = "/api/v1/documents/{id}/extraction/retry", tag = "files",
    params(("id" = i64, Path)),
    responses(
        (status = 202, description = "Queued", body = DocumentJson),
        (status = 404, description = "No such document", body = ErrorJson),
        (status = 409, description = "The document was not made from a file (`no_file`)",
            body = ErrorJson),
    ))]
pub async fn retry_extraction(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<DocumentJson>), ApiError> {
    let id = DocumentId(id);
    file_of(state.store.as_ref(), id).await?;
    state.store.enqueue_job(JobKind::Extract, id, 0).await?;
    let mut document: DocumentJson = state.store.get_document(id).await?.into();
    attach_files(state.store.as_ref(), std::slice::from_mut(&mut document)).await?;
    Ok((StatusCode::ACCEPTED, Json(document)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sent_in_ascii_and_in_utf8() {
        let value = content_disposition("회의록 \"final\".pdf", false);
        let value = value.to_str().unwrap();
        assert!(value.starts_with("attachment; filename=\"___ _final_.pdf\""));
        assert!(value.contains("filename*=UTF-8''%ED%9A%8C"));
    }

    #[test]
    fn only_inert_kinds_are_shown_inline() {
        assert!(shown_inline("application/pdf", "보고서.pdf"));
        assert!(shown_inline("image/png", "a.png"));
        assert!(shown_inline("text/plain", "메모.txt"));
        assert!(!shown_inline("text/plain", "picture.svg"));
        assert!(!shown_inline("text/plain", "page.html"));
        assert!(!shown_inline("text/html", "page.html"));
        assert!(!shown_inline("image/svg+xml", "picture.svg"));
        assert!(!shown_inline("application/octet-stream", "a.bin"));
    }
}
