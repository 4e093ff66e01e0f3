//! Extractors that answer bad input with our JSON errors instead of axum's plain text.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON body. Malformed JSON is 400, a body over the limit 413, a missing
/// `Content-Type: application/json` 415. A body that is not a JSON object, holds a field the
/// type does not know, lacks one it needs or has one of the wrong type is 422 naming the
/// field: a misspelt filter must never widen what a request touches.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // axum's `Json` checks the content type and the syntax; the shape is checked below,
        // where the field at fault can be named.
        let value = match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        parse_body(value).map(Self)
    }
}

/// Reads a JSON body into `T`, refusing anything but an object: serde reads a struct from
/// an array too, and `[]` would then be a body with every field left out.
pub fn parse_body<T: DeserializeOwned>(mut value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::invalid("the body must be a JSON object"));
    }
    whole_numbers_as_integers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        // A missing field is reported at the object holding it; name the field itself.
        let named = ["unknown field `", "missing field `"]
            .iter()
            .find_map(|prefix| inner.strip_prefix(prefix))
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        let field = match (named, path.as_str()) {
            (Some(name), ".") => name,
            (Some(name), path) if !path.ends_with(&name) => format!("{path}.{name}"),
            (_, path) => path.to_owned(),
        };
        ApiError::Invalid {
            message: format!("{field}: {inner}"),
            field: Some(field.into()),
        }
    })
}

/// JSON has one kind of number: `6.0` is the integer 6 to JSON Schema and to a client that
/// sends it, while serde refuses it for an integer field. Whole numbers written with a
/// fraction are read as the integers they are (a real fraction is still refused).
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(whole) = number.as_f64().filter(|f| f.fract() == 0.0)
                && whole > i64::MIN as f64
                && whole < i64::MAX as f64
            {
                *value = Value::from(whole as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".into(),
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::invalid(rejection.body_text()),
        StatusCode::BAD_REQUEST if matches!(rejection, JsonRejection::JsonSyntaxError(_)) => {
            ApiError::bad_request("malformed_json", rejection.body_text())
        }
        _ => ApiError::bad_request("bad_request", rejection.body_text()),
    }
}

/// Path parameters; an id that is not an integer is 400.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    ApiError::bad_request("invalid_path", rejection.body_text())
}

/// Query parameters; a value of the wrong type is 400.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::bad_request("invalid_query", rejection.body_text())
}

/// A JSON body that may be left out: no body at all is `None`; a body must be JSON like
/// [`ApiJson`]'s.
pub struct OptionalApiJson<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes =
            axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::bad_request("bad_request", rejection.body_text()),
                })?;
        // No body, or `null`: the same as sending nothing.
        if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
            return Ok(Self(None));
        }
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        let ApiJson(value) = ApiJson::<T>::from_request(request, state).await?;
        Ok(Self(Some(value)))
    }
}
