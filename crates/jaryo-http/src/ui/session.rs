//! Web sessions and CSRF tokens.
//!
//! A session is a signed cookie, `jaryo_session = <sid>.<expires>.<state>.<mac>`: a random id,
//! its expiry (Unix seconds), `1` once signed in (`0` for a visitor on the sign-in page), and
//! an HMAC-SHA256 over the rest under a key derived from the API token. Nothing else is stored:
//! sessions survive a restart and work on every process that shares the token; a new token
//! ends them all. Signing out clears the cookie and remembers the id as revoked in this process
//! until it would have expired.
//!
//! The cookie is `HttpOnly` (no script reads it) and `SameSite=Strict` (no other site's page
//! sends it). Every form carries a CSRF token, an HMAC of the session id, and every `POST`
//! is refused unless the token matches; a present `Origin` header must name this host as well.
//! Signing in issues a new session id, so a visitor's id never becomes a signed-in one.

use super::UiState;
use super::i18n::Lang;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{KeyInit, Mac};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SESSION_COOKIE: &str = "jaryo_session";
/// How long a sign-in lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long a visitor's sign-in form stays usable.
const VISITOR_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Revoked ids kept at most; beyond this the oldest to expire are forgotten first.
const REVOKED_MAX: usize = 10_000;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The value of cookie `name` in a request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signs and checks sessions; remembers sign-outs.
#[derive(Clone)]
pub struct Sessions {
    key: Arc<[u8; 32]>,
    revoked: Arc<Mutex<HashMap<String, u64>>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions([key redacted])")
    }
}

/// A verified session from a request's cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub expires: u64,
    pub signed_in: bool,
}

impl Sessions {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            key: Arc::new(key),
            revoked: Arc::default(),
        }
    }

    fn mac(&self, purpose: &str, message: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(self.key.as_slice()).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(message.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    fn verify_mac(&self, purpose: &str, message: &str, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.mac(purpose, message);
        bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// A new session: signed in or a visitor's.
    pub fn issue(&self, signed_in: bool) -> Session {
        let lifetime = if signed_in {
            SESSION_LIFETIME
        } else {
            VISITOR_LIFETIME
        };
        Session {
            id: hex(&rand::random::<[u8; 16]>()),
            expires: now_secs() + lifetime.as_secs(),
            signed_in,
        }
    }

    /// The cookie value of a session.
    pub fn encode(&self, session: &Session) -> String {
        let body = format!(
            "{}.{}.{}",
            session.id,
            session.expires,
            u8::from(session.signed_in)
        );
        let mac = self.mac("session", &body);
        format!("{body}.{mac}")
    }

    /// The session a request carries, if its cookie is genuine, unexpired and not revoked.
    pub fn read(&self, headers: &HeaderMap) -> Option<Session> {
        let value = cookie(headers, SESSION_COOKIE)?;
        let (body, mac) = value.rsplit_once('.')?;
        if !self.verify_mac("session", body, mac) {
            return None;
        }
        let mut parts = body.split('.');
        let id = parts.next()?.to_owned();
        let expires = parts.next()?.parse::<u64>().ok()?;
        let signed_in = match parts.next()? {
            "1" => true,
            "0" => false,
            _ => return None,
        };
        if parts.next().is_some() || expires <= now_secs() {
            return None;
        }
        if self.revoked.lock().expect("not poisoned").contains_key(&id) {
            return None;
        }
        Some(Session {
            id,
            expires,
            signed_in,
        })
    }

    /// Ends a session in this process before its expiry.
    pub fn revoke(&self, session: &Session) {
        let now = now_secs();
        let mut revoked = self.revoked.lock().expect("not poisoned");
        revoked.retain(|_, expires| *expires > now);
        if revoked.len() >= REVOKED_MAX
            && let Some(soonest) = revoked
                .iter()
                .min_by_key(|(_, expires)| **expires)
                .map(|(id, _)| id.clone())
        {
            revoked.remove(&soonest);
        }
        revoked.insert(session.id.clone(), session.expires);
    }

    /// The CSRF token of a session, for its forms.
    pub fn csrf_token(&self, session: &Session) -> String {
        self.mac("csrf", &session.id)
    }

    pub fn csrf_matches(&self, session: &Session, presented: &str) -> bool {
        self.verify_mac("csrf", &session.id, presented)
    }

    /// `Set-Cookie` for a session. `secure` adds `Secure` (the request came over HTTPS).
    pub fn set_cookie(&self, session: &Session, secure: bool) -> HeaderValue {
        let max_age = session.expires.saturating_sub(now_secs());
        let secure = if secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
            self.encode(session)
        ))
        .expect("cookie text is ASCII")
    }

    pub fn clear_cookie() -> HeaderValue {
        HeaderValue::from_static("jaryo_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
    }
}

/// Whether the request reached us over HTTPS (directly or through a proxy that says so).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// A present `Origin` must be this host: a form posted from another site is refused even
/// before its token is checked.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// A signed-in person looking at a page: their session, language and CSRF token. Extracting
/// it from a request without a signed-in session redirects to the sign-in page (a `GET`) or
/// refuses (anything else).
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session: Session,
    pub lang: Lang,
    pub csrf: String,
}

impl FromRequestParts<UiState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ui: &UiState) -> Result<Self, Response> {
        let lang = Lang::of_request(&parts.headers);
        let Some(session) = ui.sessions.read(&parts.headers).filter(|s| s.signed_in) else {
            if parts.method == Method::GET {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let target = format!("/sign-in?next={}", super::url_encode(next));
                return Err(Redirect::to(&target).into_response());
            }
            return Err(super::error_page(lang, super::PageError::SignedOut));
        };
        if parts.method != Method::GET && !same_origin(&parts.headers) {
            return Err(super::error_page(lang, super::PageError::Csrf));
        }
        let csrf = ui.sessions.csrf_token(&session);
        Ok(Self {
            session,
            lang,
            csrf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_with(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn a_signed_session_reads_back_and_a_tampered_one_does_not() {
        let sessions = Sessions::new([7; 32]);
        let session = sessions.issue(true);
        let value = sessions.encode(&session);
        let read = sessions.read(&headers_with(&format!("a=b; {SESSION_COOKIE}={value}")));
        assert_eq!(read, Some(session.clone()));
        // Claiming to be signed in with a visitor's signature fails.
        let visitor = sessions.encode(&Session {
            signed_in: false,
            ..session.clone()
        });
        let forged = visitor.replacen(".0.", ".1.", 1);
        assert_eq!(
            sessions.read(&headers_with(&format!("{SESSION_COOKIE}={forged}"))),
            None
        );
        // Another key (another API token) does not accept it.
        let other = Sessions::new([8; 32]);
        assert_eq!(
            other.read(&headers_with(&format!("{SESSION_COOKIE}={value}"))),
            None
        );
        sessions.revoke(&session);
        assert_eq!(
            sessions.read(&headers_with(&format!("{SESSION_COOKIE}={value}"))),
            None
        );
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let sessions = Sessions::new([1; 32]);
        let one = sessions.issue(true);
        let two = sessions.issue(true);
        let token = sessions.csrf_token(&one);
        assert!(sessions.csrf_matches(&one, &token));
        assert!(!sessions.csrf_matches(&two, &token));
        assert!(!sessions.csrf_matches(&one, ""));
    }

    #[test]
    fn origin_must_be_this_host() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8765"));
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8765"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&headers));
    }
}
