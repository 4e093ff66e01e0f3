//! The OpenAPI document of the whole API, served at `/api/v1/openapi.json`.

use crate::wire;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jaryo",
        description = "Memos, documents and local-LLM drafts. Every route needs \
                       `Authorization: Bearer <token>` except `/healthz`."
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
    ),
    components(schemas(wire::ErrorJson, wire::ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "memos", description = "Quick notes"),
        (name = "documents", description = "The library"),
        (name = "review", description = "Accept, edit then accept, or reject a model draft"),
        (name = "status", description = "What jaryo is doing"),
        (name = "ask", description = "Questions answered from your notes"),
        (name = "search", description = "Ranked full-text search, Korean first-class"),
        (name = "tags", description = "The #tags in use; renaming one"),
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

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
