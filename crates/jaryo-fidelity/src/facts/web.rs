//! URLs, bare domains and e-mail addresses.
//!
//! A URL's key is lower-cased and loses its scheme, a leading `www.` and a trailing slash, so
//! `https://www.Example.com/a/` and `example.com/a` are one fact. A URL stops at whitespace, at
//! Hangul (a Korean sentence glues its particle to the URL: `https://a.com에서`), and loses
//! trailing punctuation and unbalanced closing brackets.

use std::sync::LazyLock;

use regex::Regex;

use super::{ClaimValue, Recognised, Side, char_before, ends_token, starts_token};
use crate::vocabulary::TOP_LEVEL_DOMAINS;

static SCHEME_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>"'`\[\]{}\p{Hangul}（）「」『』、。，]+"#)
        .unwrap()
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").unwrap()
});
static BARE_DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,12})([/?#][^\s<>"'`\[\]{}\p{Hangul}]*)?"#,
    )
    .unwrap()
});

pub(super) fn urls_with_scheme(text: &str, _side: Side) -> Vec<Recognised> {
    SCHEME_URL
        .find_iter(text)
        .filter(|found| starts_token(text, found.start()))
        .filter_map(|found| {
            let end = found.start() + trimmed_url_len(found.as_str());
            let url = &text[found.start()..end];
            // A bare scheme ("https://") is no address.
            (url_key(url).len() > 1)
                .then(|| Recognised::claim(found.start()..end, ClaimValue::Url(url_key(url))))
        })
        .collect()
}

pub(super) fn emails(text: &str, _side: Side) -> Vec<Recognised> {
    EMAIL
        .find_iter(text)
        .filter(|found| ends_token(text, found.end()))
        .map(|found| {
            Recognised::claim(
                found.range(),
                ClaimValue::Email(found.as_str().to_lowercase()),
            )
        })
        .collect()
}

pub(super) fn bare_domains(text: &str, _side: Side) -> Vec<Recognised> {
    let mut recognised = Vec::new();
    for caps in BARE_DOMAIN.captures_iter(text) {
        let (Some(whole), Some(tld)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let glued_before = char_before(text, whole.start())
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '/' | '-' | '_'));
        let tld_known = TOP_LEVEL_DOMAINS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(tld.as_str()));
        let glued_after = caps.get(2).is_none()
            && super::char_at(text, tld.end())
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
        if glued_before || !tld_known || glued_after {
            continue;
        }
        let end = whole.start() + trimmed_url_len(whole.as_str());
        let url = &text[whole.start()..end];
        recognised.push(Recognised::claim(
            whole.start()..end,
            ClaimValue::Url(url_key(url)),
        ));
    }
    recognised
}

/// Length of `url` without trailing punctuation and unbalanced closing brackets.
fn trimmed_url_len(url: &str) -> usize {
    let mut end = url.len();
    loop {
        let current = &url[..end];
        let Some(last) = current.chars().next_back() else {
            break;
        };
        let unbalanced = |open: char, close: char| {
            last == close && current.matches(open).count() < current.matches(close).count()
        };
        if matches!(
            last,
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '*' | '_'
        ) || unbalanced('(', ')')
            || unbalanced('[', ']')
        {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    end
}

/// The comparison key of a URL: lower-cased, no scheme, no `www.`, no trailing slash.
pub(crate) fn url_key(url: &str) -> String {
    let lower = url.to_lowercase();
    let without_scheme = match lower.find("://") {
        Some(at) => &lower[at + 3..],
        None => &lower[..],
    };
    let without_www = without_scheme
        .strip_prefix("www.")
        .unwrap_or(without_scheme);
    without_www.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<&str> {
        let mut found: Vec<_> = urls_with_scheme(text, Side::Draft);
        found.extend(bare_domains(text, Side::Draft));
        found.into_iter().map(|r| &text[r.range]).collect()
    }

    #[test]
    fn urls_lose_trailing_punctuation_and_korean_particles() {
        assert_eq!(urls("see https://a.com/x)."), ["https://a.com/x"]);
        assert_eq!(
            urls("(https://en.wikipedia.org/wiki/Rust_(language))"),
            ["https://en.wikipedia.org/wiki/Rust_(language)"]
        );
        assert_eq!(urls("https://jaryo.dev에서 확인"), ["https://jaryo.dev"]);
    }

    #[test]
    fn bare_domains_need_a_known_top_level_domain() {
        assert_eq!(
            urls("jaryo.dev and naver.com/x"),
            ["jaryo.dev", "naver.com/x"]
        );
        assert!(urls("main.rs, node.js, README.md, e.g. this").is_empty());
        assert_eq!(urls("vpn.acme-corp.com:51820"), ["vpn.acme-corp.com"]);
    }

    #[test]
    fn url_keys_ignore_scheme_www_and_case() {
        assert_eq!(url_key("https://www.Example.com/a/"), "example.com/a");
        assert_eq!(url_key("example.com/a"), "example.com/a");
    }

    #[test]
    fn emails_are_lower_cased() {
        let found = emails("Mail Jieun.Lee@Studio-M.co.kr.", Side::Draft);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].value,
            Some(ClaimValue::Email("jieun.lee@studio-m.co.kr".to_owned()))
        );
    }
}
