//! The web UI: the built assets of `ui/dist` embedded in the binary and served at `/`, with
//! client-side routes falling back to `index.html`; plus the two small endpoints only the UI
//! needs, `GET /api/v1/whoami` and `GET /api/v1/status/config`.
//!
//! **Invariant:** a path under `/api/` never gets the UI: unknown API paths stay JSON 404s.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use serde_json::{Value as J, json};

/// Built by `scripts/build-ui.sh` and committed, so a fresh clone builds without npm.
#[derive(Embed)]
#[folder = "../../ui/dist/"]
struct Assets;

/// Scripts only from our own origin: with data rendered as text this is a second wall
/// against injected markup. Inline styles are allowed because uPlot sizes its canvas with them.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   frame-ancestors 'none'; form-action 'self'";

/// Everything no route claimed: UI assets, the SPA entry for client routes, else a JSON 404.
pub(crate) async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let api_like = path.starts_with("/api/") || path == "/api" || path.starts_with("/-/");
    if api_like || (method != Method::GET && method != Method::HEAD) {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
            .into_response();
    }
    let name = path.trim_start_matches('/');
    if !name.is_empty()
        && let Some(resp) = asset(name, &headers)
    {
        return resp;
    }
    // A last segment with a dot names a file that does not exist; anything else is a page
    // of the single-page app, which index.html routes on the client.
    let last = name.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such file `{path}`"),
        )
        .into_response();
    }
    asset("index.html", &headers).unwrap_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the web UI was not built into this binary",
        )
        .into_response()
    })
}

/// One embedded file with its content type and an ETag. Names carry no content hash, so
/// browsers revalidate every time (`no-cache`) and get a 304 while the binary is the same.
fn asset(name: &str, headers: &HeaderMap) -> Option<Response> {
    let file = Assets::get(name)?;
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut resp = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, file.metadata.mimetype().to_string())],
            file.data.into_owned(),
        )
            .into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    Some(resp)
}

/// `GET /api/v1/whoami`: the role of the bearer token sent, so the UI shows only the buttons
/// that role may use. Open to all: it says nothing about tokens one does not hold.
pub(crate) async fn whoami(State(s): State<AppState>, h: HeaderMap) -> Result<Json<J>, ApiError> {
    let tokens = &s.engine.config.auth.tokens;
    if tokens.is_empty() {
        return Ok(Json(json!({
            "status": "success",
            "data": { "auth": false, "role": "admin", "name": null },
        })));
    }
    let given = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(given) = given else {
        return Ok(Json(json!({
            "status": "success",
            "data": { "auth": true, "role": null, "name": null },
        })));
    };
    let t = tokens
        .iter()
        .find(|t| crate::auth::constant_time_eq(t.token.expose().as_bytes(), given.as_bytes()))
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown token"))?;
    let role = format!("{:?}", t.role).to_lowercase();
    Ok(Json(json!({
        "status": "success",
        "data": { "auth": true, "role": role, "name": t.name },
    })))
}

/// `GET /api/v1/status/config`: the effective configuration as text. Tokens print as
/// `<secret>` (their type's `Debug`); passwords inside URLs are masked here.
pub(crate) async fn config(State(s): State<AppState>) -> Json<J> {
    let text = mask_url_passwords(&unspan(&format!("{:#?}", s.engine.config)));
    Json(json!({ "status": "success", "data": { "text": text } }))
}

/// Replaces each `Spanned { value: V, referenced: …, defined: … }` of the pretty `Debug` text
/// with `V`: where in the file a key was written is noise on this page. Values that span lines
/// are left whole. Hand-written because the configuration types have no `Serialize` to use.
fn unspan(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        let value = lines
            .get(i + 1)
            .and_then(|n| n.trim_start().strip_prefix("value: "))
            .filter(|v| v.ends_with(','));
        if let (Some(head), Some(value)) = (line.strip_suffix("Spanned {"), value) {
            let close = (i + 2..lines.len()).find(|&j| {
                let l = lines[j];
                l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}')
            });
            if let Some(j) = close {
                let tail = lines[j].trim_start().trim_start_matches('}');
                let value = if tail == "," {
                    value
                } else {
                    value.trim_end_matches(',')
                };
                out.push(format!("{head}{value}"));
                i = j + 1;
                continue;
            }
        }
        out.push(line.to_string());
        i += 1;
    }
    out.join("\n")
}

/// `scheme://user:password@host` → `scheme://user:<secret>@host`, everywhere in `text`.
/// Hand-written: one pattern, and a URL parser would need the URLs found first anyway.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first of these; a password is what follows `:` before `@`.
        let end = tail
            .find(|c: char| c == '/' || c == '"' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon + 1]);
                out.push_str("<secret>");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked_and_the_rest_kept() {
        assert_eq!(
            mask_url_passwords(r#"url: Some("postgres://hush:s3cr%40t@db:5432/hush?x=1")"#),
            r#"url: Some("postgres://hush:<secret>@db:5432/hush?x=1")"#
        );
        assert_eq!(
            mask_url_passwords("a http://host:9090/x b sqlite://data/hush.db"),
            "a http://host:9090/x b sqlite://data/hush.db"
        );
        assert_eq!(mask_url_passwords("x://"), "x://");
    }

    #[test]
    fn spans_are_dropped_and_other_text_kept() {
        let text = "Config {\n    listen: Spanned {\n        value: 127.0.0.1:9650,\n        referenced: Location {\n            line: 0,\n        },\n    },\n    targets: [\n        Spanned {\n            value: \"a:1\",\n            defined: Location {\n                line: 3,\n            },\n        },\n    ],\n    nested: Spanned {\n        value: Foo {\n        },\n    },\n}";
        assert_eq!(
            unspan(text),
            "Config {\n    listen: 127.0.0.1:9650,\n    targets: [\n        \"a:1\",\n    ],\n    nested: Spanned {\n        value: Foo {\n        },\n    },\n}"
        );
    }

    #[test]
    fn the_built_ui_is_embedded() {
        assert!(Assets::get("index.html").is_some());
        assert!(Assets::get("app.js").is_some());
        assert!(Assets::get("app.css").is_some());
    }
}
