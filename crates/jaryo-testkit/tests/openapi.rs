//! The served OpenAPI document is true: public, OpenAPI 3.1 with valid JSON Schemas, and in
//! step with the router (every route documented, every documented operation and parameter
//! accepted, nothing undocumented accepted).
//!
//! The document as a whole is validated against the OpenAPI Initiative's schemas by
//! `openapi-spec-validator` (PyPI) in `scripts/test`, which fetches it from a running jaryo;
//! nothing of theirs is kept in this repository.

use jaryo_testkit::{Backend, TestApp};
use reqwest::Method;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "patch", "put", "delete"];

async fn served_document(app: &TestApp) -> Value {
    // No token: the document is public.
    let response = app
        .http
        .get(app.api_url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((path.clone(), method.to_owned(), operation.clone()));
            }
        }
    }
    found
}

jaryo_testkit::test_on_both_stores!(the_openapi_document_is_openapi_3_1_and_public);
async fn the_openapi_document_is_openapi_3_1_and_public(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let doc = served_document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    // Every schema of a component or a parameter is itself a valid JSON Schema (2020-12).
    let mut schemas: Vec<Value> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .values()
        .cloned()
        .collect();
    for (_, _, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            schemas.push(parameter["schema"].clone());
        }
    }
    for schema in schemas {
        assert!(
            jsonschema::meta::is_valid(&schema),
            "not a valid JSON Schema: {schema}"
        );
    }
    app.stop().await;
}

jaryo_testkit::test_on_both_stores!(the_openapi_document_says_what_the_server_enforces);
async fn the_openapi_document_says_what_the_server_enforces(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let doc = served_document(&app).await;
    for (path, method, operation) in operations(&doc) {
        let name = format!("{method} {path}");
        let public = operation["security"] == serde_json::json!([{}]);
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.contains_key("400"), "{name} lacks 400");
        if !public {
            assert!(responses.contains_key("401"), "{name} lacks 401");
        }
        if operation.get("requestBody").is_some() {
            for status in ["413", "415", "422"] {
                assert!(responses.contains_key(status), "{name} lacks {status}");
            }
        }
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let placed = parameter["in"].as_str().unwrap();
            let parameter_name = parameter["name"].as_str().unwrap();
            if path.contains(&format!("{{{parameter_name}}}")) {
                assert_eq!(placed, "path", "{name} {parameter_name}");
            } else {
                assert_eq!(placed, "query", "{name} {parameter_name}");
                assert_ne!(parameter["required"], true, "{name} {parameter_name}");
            }
            if parameter_name == "limit" {
                assert_eq!(parameter["schema"]["minimum"], 1, "{name}");
                assert_eq!(parameter["schema"]["maximum"], 200, "{name}");
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["AskInput"]["properties"]["sources"]["minimum"], 1);
    assert_eq!(schemas["AskInput"]["properties"]["sources"]["maximum"], 8);
    assert_eq!(
        schemas["MemoInput"]["properties"]["content"]["minLength"],
        1
    );
    assert_eq!(
        schemas["MemoPatchInput"]["properties"]["content"]["minLength"],
        1
    );
    for input in [
        "MemoInput",
        "MemoPatchInput",
        "NewDocumentInput",
        "DocumentPatchInput",
        "RedraftSelection",
        "AcceptDraftInput",
        "RejectDraftInput",
        "AskInput",
    ] {
        assert_eq!(
            schemas[input]["additionalProperties"], false,
            "{input} must say that unknown fields are refused"
        );
    }
    let metrics = &doc["paths"]["/api/v1/metrics"]["get"]["responses"]["200"]["content"];
    let content_type = metrics.as_object().unwrap().keys().next().unwrap();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let served = app.authed(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(
        served.headers()["content-type"].to_str().unwrap(),
        content_type
    );
    app.stop().await;
}

/// A path of the document with every `{parameter}` filled with an id nothing has.
fn concrete(path: &str) -> String {
    path.replace("{id}", "987654")
}

fn method(name: &str) -> Method {
    name.to_uppercase().parse().unwrap()
}

jaryo_testkit::test_on_both_stores!(the_openapi_document_and_the_router_agree);
async fn the_openapi_document_and_the_router_agree(backend: Backend) {
    let app = TestApp::spawn_on(backend).await;
    let doc = served_document(&app).await;
    let paths = doc["paths"].as_object().unwrap();

    // Every route the API's routers declare is documented.
    let sources = [
        include_str!("../../jaryo-http/src/api/memos.rs"),
        include_str!("../../jaryo-http/src/api/documents.rs"),
        include_str!("../../jaryo-http/src/api/drafts.rs"),
        include_str!("../../jaryo-http/src/api/review.rs"),
        include_str!("../../jaryo-http/src/api/ask.rs"),
        include_str!("../../jaryo-http/src/api/status.rs"),
        include_str!("../../jaryo-http/src/api/search.rs"),
    ];
    let mut declared = 0;
    for source in sources {
        for piece in source.split(".route(").skip(1) {
            let route = piece.trim_start().trim_start_matches('"');
            let route = &route[..route.find('"').unwrap()];
            declared += 1;
            assert!(
                paths.contains_key(&format!("/api/v1{route}")),
                "the route {route} is not in the OpenAPI document"
            );
        }
    }
    assert!(declared >= 12, "found only {declared} routes");

    // Every documented operation answers (no body is sent, so nothing changes), and every
    // method a path does not document is refused with 405.
    for (path, item) in paths {
        for name in METHODS {
            let url = format!("{}{}", app.url, concrete(path));
            let response = app
                .http
                .request(method(name), &url)
                .bearer_auth(secrecy::ExposeSecret::expose_secret(&app.token))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            if item.get(name).is_some() {
                assert!(
                    status != 405 && !body.contains("no such route"),
                    "{name} {path} is documented but not routed: {status} {body}"
                );
            } else {
                assert_eq!(status, 405, "{name} {path} is routed but not documented");
            }
        }
    }

    // Every documented query parameter is one the handler reads: the API refuses unknown
    // ones, so a parameter the handler does not know would be refused here.
    for (path, method_name, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["in"] != "query" {
                continue;
            }
            let name = parameter["name"].as_str().unwrap();
            let url = format!("{}{}?{name}=1", app.url, concrete(&path));
            let response = app
                .http
                .request(method(&method_name), &url)
                .bearer_auth(secrecy::ExposeSecret::expose_secret(&app.token))
                .send()
                .await
                .unwrap();
            let body = response.text().await.unwrap();
            assert!(
                !body.contains("unknown field"),
                "{method_name} {path}: the documented parameter {name} is refused: {body}"
            );
        }
    }
    let unknown = app
        .authed(Method::GET, "/search?q=회의&sort=newest")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("unknown field `sort`")
    );
    app.stop().await;
}
