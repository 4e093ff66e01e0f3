//! The OpenAPI document of the whole API, served without a token at `/api/v1/openapi.json`
//! (it is public information: it says what the API takes, not what it holds).
//!
//! It must be true, since clients are generated from it: query parameters are `in: query`,
//! limits are the ones the handlers enforce, and every operation lists the errors any request
//! may meet (`StandardErrors`). A test in jaryo-testkit validates it against the OpenAPI 3.1
//! schema and probes the running router with it.

use crate::wire;
use axum::Json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jaryo",
        description = "Memos, documents and local-LLM drafts. Every route needs \
                       `Authorization: Bearer <token>` except `/healthz` and this document. \
                       Every JSON body is an object holding only the fields its route \
                       documents; anything else is 422 `invalid_input` naming the field."
    ),
    paths(
        super::memos::create_memo,
        super::memos::list_memos,
        super::memos::get_memo,
        super::memos::update_memo,
        super::memos::delete_memo,
        super::memos::promote_memo,
        super::documents::list_documents,
        super::documents::create_document,
        super::documents::get_document,
        super::documents::update_document,
        super::documents::delete_document,
        super::drafts::redraft,
        super::review::accept_draft,
        super::review::reject_draft,
        super::drafts::redraft_selection,
        super::ask::ask,
        super::status::status,
        super::status::metrics,
        super::search::search,
        super::tags::list_tags,
        super::tags::rename_tag,
        super::exchange::export,
        super::exchange::import,
        super::files::upload_files,
        super::files::download_file,
        super::files::retry_extraction,
        openapi_json,
        crate::healthz,
    ),
    components(schemas(wire::ErrorJson, wire::ErrorDetail)),
    modifiers(&BearerAuth, &StandardErrors),
    security(("bearer" = [])),
    tags(
        (name = "memos", description = "Quick notes"),
        (name = "documents", description = "The library"),
        (name = "review", description = "Accept, edit then accept, or reject a model draft"),
        (name = "status", description = "What jaryo is doing"),
        (name = "ask", description = "Questions answered from your notes"),
        (name = "search", description = "Ranked full-text search, Korean first-class"),
        (name = "tags", description = "The #tags in use; renaming one"),
        (name = "exchange", description = "The library in and out: export, import"),
        (name = "files", description = "Files in (their text read in the background) and out"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Errors any request may meet, added to every operation that does not describe them
/// itself: a wrong token, a bad id, query or JSON syntax; and for a body, one too large, not
/// JSON, or of the wrong shape.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                add_standard_errors(operation);
            }
        }
    }
}

fn add_standard_errors(operation: &mut Operation) {
    let public = operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.iter().all(is_empty_requirement));
    let mut errors = vec![(
        "400",
        "A malformed id, query parameter or JSON body (`invalid_path`, `invalid_query`, \
         `malformed_json`)",
    )];
    if !public {
        errors.push(("401", "Missing or wrong API token (`unauthorized`)"));
    }
    if operation.request_body.is_some() {
        errors.push(("413", "Body over the size limit (`payload_too_large`)"));
        errors.push((
            "415",
            "Body not sent as `application/json` (`unsupported_media_type`)",
        ));
        errors.push((
            "422",
            "A body that is not an object, or a field unknown, missing, of the wrong type or \
             invalid (`invalid_input`, `field` names it)",
        ));
    }
    for (status, description) in errors {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    Response::builder()
                        .description(description)
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ErrorJson"))),
                        )
                        .build(),
                )
            });
    }
}

fn is_empty_requirement(requirement: &utoipa::openapi::security::SecurityRequirement) -> bool {
    requirement == &utoipa::openapi::security::SecurityRequirement::default()
}

/// This document, as OpenAPI 3.1 JSON.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "status", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API",
        content_type = "application/json")))]
pub async fn openapi_json() -> Json<serde_json::Value> {
    Json(document())
}

/// The document as served: utoipa's, with the rules that tie one field of a body to another,
/// which field attributes cannot state. A client generating input from the document (as
/// schemathesis does in `scripts/test`) then sends only what the server accepts.
pub fn document() -> serde_json::Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
    let given = |field: &str| serde_json::json!({"required": [field], "properties": {field: {"type": "string"}}});
    let rules = [
        // An import's own dates come only with `content_origin: import`.
        (
            "NewDocumentInput",
            serde_json::json!({"allOf": [{
                "if": {"anyOf": [given("created_at"), given("updated_at")]},
                "then": {
                    "required": ["content_origin"],
                    "properties": {"content_origin": {"const": "import"}}
                }
            }]}),
        ),
        // A patch changes something.
        (
            "DocumentPatchInput",
            serde_json::json!({"anyOf": [given("title"), given("extracted_text")]}),
        ),
    ];
    for (name, rule) in rules {
        if let Some(serde_json::Value::Object(schema)) =
            document.pointer_mut(&format!("/components/schemas/{name}"))
            && let serde_json::Value::Object(rule) = rule
        {
            schema.extend(rule);
        }
    }
    document
}
