//! `/api-reference`: the API reference as a page, rendered on the server from the OpenAPI
//! document jaryo serves (`crate::api::openapi::document`), so it can never say something the
//! served document does not. No script and nothing from elsewhere: the page is HTML and the
//! stylesheet every page uses.
//!
//! The document is walked as JSON rather than as utoipa's types: what is shown is what a
//! client reads, including the rules `document()` adds after utoipa.

use super::pages::chrome;
use super::session::Viewer;
use super::view::Chrome;
use super::{UiState, markdown, render};
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[derive(Template)]
#[template(path = "api_reference.html")]
pub struct ApiReferencePage {
    pub chrome: Chrome,
    pub intro_html: String,
    pub groups: Vec<OperationGroup>,
    pub schemas: Vec<SchemaView>,
}

/// The operations of one tag, in the document's order of tags.
pub struct OperationGroup {
    pub tag: String,
    pub description: String,
    pub operations: Vec<OperationView>,
}

pub struct OperationView {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary_html: String,
    /// Served without a token.
    pub public: bool,
    pub params: Vec<FieldView>,
    pub body: Option<TypeView>,
    pub responses: Vec<ResponseView>,
}

pub struct ResponseView {
    pub status: String,
    pub description: String,
    pub body: Option<TypeView>,
}

pub struct SchemaView {
    pub name: String,
    pub description_html: String,
    pub fields: Vec<FieldView>,
}

/// A parameter or a property.
pub struct FieldView {
    pub name: String,
    /// `query`, `path`, `header`, or empty for a property.
    pub place: String,
    pub required: bool,
    pub ty: TypeView,
    pub description_html: String,
}

/// A type as a person reads it, linking to the schema it names.
pub struct TypeView {
    pub text: String,
    pub link: Option<String>,
}

pub async fn api_reference(State(_ui): State<UiState>, viewer: Viewer, uri: Uri) -> Response {
    let document = crate::api::openapi::document();
    render(&reference_page(&document, chrome(&viewer, "api", &uri)))
}

fn reference_page(document: &Value, chrome: Chrome) -> ApiReferencePage {
    let mut groups: Vec<OperationGroup> = document["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tag| OperationGroup {
            tag: text(&tag["name"]),
            description: text(&tag["description"]),
            operations: Vec::new(),
        })
        .collect();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let tag = operation["tags"][0].as_str().unwrap_or("other").to_owned();
            let view = operation_view(path, method, operation);
            match groups.iter_mut().find(|group| group.tag == tag) {
                Some(group) => group.operations.push(view),
                None => groups.push(OperationGroup {
                    tag,
                    description: String::new(),
                    operations: vec![view],
                }),
            }
        }
    }
    groups.retain(|group| !group.operations.is_empty());
    let schemas = document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| SchemaView {
            name: name.clone(),
            description_html: markdown::render(schema["description"].as_str().unwrap_or("")),
            fields: properties(schema),
        })
        .collect();
    ApiReferencePage {
        chrome,
        intro_html: markdown::render(document["info"]["description"].as_str().unwrap_or("")),
        groups,
        schemas,
    }
}

fn operation_view(path: &str, method: &str, operation: &Value) -> OperationView {
    let summary = [&operation["summary"], &operation["description"]]
        .iter()
        .filter_map(|part| part.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    let params = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|param| FieldView {
            name: text(&param["name"]),
            place: text(&param["in"]),
            required: param["required"].as_bool().unwrap_or(false),
            ty: type_view(&param["schema"]),
            description_html: markdown::render(param["description"].as_str().unwrap_or("")),
        })
        .collect();
    let body = operation["requestBody"]["content"]
        .as_object()
        .and_then(|content| content.iter().next())
        .map(|(media_type, content)| media_type_view(media_type, &content["schema"]));
    let responses = operation["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, response)| ResponseView {
            status: status.clone(),
            description: text(&response["description"]),
            body: response["content"]
                .as_object()
                .and_then(|content| content.iter().next())
                .map(|(media_type, content)| media_type_view(media_type, &content["schema"])),
        })
        .collect();
    OperationView {
        anchor: format!("{method}-{}", anchor_of(path)),
        method: method.to_uppercase(),
        path: path.to_owned(),
        summary_html: markdown::render(&summary),
        public: operation["security"].as_array().is_some_and(|schemes| {
            schemes
                .iter()
                .any(|scheme| scheme == &Value::Object(Default::default()))
        }),
        params,
        body,
        responses,
    }
}

/// A body: its schema, or its media type when the schema says only "bytes" or "text".
fn media_type_view(media_type: &str, schema: &Value) -> TypeView {
    let ty = type_view(schema);
    if ty.link.is_some() || media_type == "application/json" {
        ty
    } else {
        TypeView {
            text: media_type.to_owned(),
            link: None,
        }
    }
}

fn properties(schema: &Value) -> Vec<FieldView> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, property)| FieldView {
            name: name.clone(),
            place: String::new(),
            required: required.contains(&name.as_str()),
            ty: type_view(property),
            description_html: markdown::render(property["description"].as_str().unwrap_or("")),
        })
        .collect()
}

/// `string (date-time)`, `integer, 1–200`, `array of MemoJson`, `"user" | "import"`, …
fn type_view(schema: &Value) -> TypeView {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference).to_owned();
        return TypeView {
            link: Some(format!("#schema-{name}")),
            text: name,
        };
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(choices) = schema[combinator].as_array() {
            let views: Vec<TypeView> = choices.iter().map(type_view).collect();
            let link = views.iter().find_map(|view| view.link.clone());
            let joiner = if combinator == "allOf" { " & " } else { " | " };
            return TypeView {
                text: views
                    .into_iter()
                    .map(|view| view.text)
                    .collect::<Vec<_>>()
                    .join(joiner),
                link,
            };
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        return TypeView {
            text: values
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(" | "),
            link: None,
        };
    }
    let types: Vec<String> = match &schema["type"] {
        Value::String(ty) => vec![ty.clone()],
        Value::Array(types) => types.iter().map(text).collect(),
        _ => Vec::new(),
    };
    let mut text_parts = Vec::new();
    let mut link = None;
    for ty in &types {
        text_parts.push(match ty.as_str() {
            "array" => {
                let items = type_view(&schema["items"]);
                link = items.link;
                format!("array of {}", items.text)
            }
            "null" => "null".to_owned(),
            other => match schema["format"].as_str() {
                Some(format) => format!("{other} ({format})"),
                None => other.to_owned(),
            },
        });
    }
    let mut text = if text_parts.is_empty() {
        "any".to_owned()
    } else {
        text_parts.join(" | ")
    };
    let bounds = match (&schema["minimum"], &schema["maximum"]) {
        (Value::Number(min), Value::Number(max)) => Some(format!("{min}–{max}")),
        (Value::Number(min), _) => Some(format!("≥ {min}")),
        (_, Value::Number(max)) => Some(format!("≤ {max}")),
        _ => None,
    };
    let length = match (&schema["minLength"], &schema["maxLength"]) {
        (Value::Number(min), Value::Number(max)) => Some(format!("{min}–{max} characters")),
        (_, Value::Number(max)) => Some(format!("at most {max} characters")),
        _ => None,
    };
    for extra in [bounds, length].into_iter().flatten() {
        text.push_str(", ");
        text.push_str(&extra);
    }
    TypeView { text, link }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("").to_owned()
}

fn anchor_of(path: &str) -> String {
    path.trim_start_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_as_a_person_would() {
        let cases = [
            (
                serde_json::json!({"$ref": "#/components/schemas/MemoJson"}),
                "MemoJson",
                true,
            ),
            (
                serde_json::json!({"type": "integer", "minimum": 1, "maximum": 200}),
                "integer, 1–200",
                false,
            ),
            (
                serde_json::json!({"type": ["string", "null"], "format": "date-time"}),
                "string (date-time) | null",
                false,
            ),
            (
                serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/TagJson"}}),
                "array of TagJson",
                true,
            ),
            (
                serde_json::json!({"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}),
                "string (date) | string (date-time)",
                false,
            ),
            (
                serde_json::json!({"enum": ["memo", "document"]}),
                "\"memo\" | \"document\"",
                false,
            ),
        ];
        for (schema, text, linked) in cases {
            let view = type_view(&schema);
            assert_eq!(view.text, text, "{schema}");
            assert_eq!(view.link.is_some(), linked, "{schema}");
        }
    }
}
