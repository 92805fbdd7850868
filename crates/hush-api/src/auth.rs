//! Bearer-token authentication with roles. With no tokens configured the API is open (the
//! server then refuses to listen beyond loopback unless told `--insecure`).

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hush_engine::config::Role;
use std::future::Future;
use std::pin::Pin;

/// Who is calling (`token:<name>`), for the audit log; absent when the API is open.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub String);

type Mw = fn(State<AppState>, Request, Next) -> Pin<Box<dyn Future<Output = Response> + Send>>;

/// A middleware admitting requests whose token has at least `role`.
pub(crate) fn require(role: Role) -> Mw {
    match role {
        Role::Read => |s, r, n| Box::pin(check(s, r, n, Role::Read)),
        Role::Write => |s, r, n| Box::pin(check(s, r, n, Role::Write)),
        Role::Operator => |s, r, n| Box::pin(check(s, r, n, Role::Operator)),
        Role::Admin => |s, r, n| Box::pin(check(s, r, n, Role::Admin)),
    }
}

async fn check(State(s): State<AppState>, mut req: Request, next: Next, need: Role) -> Response {
    let tokens = &s.engine.config.auth.tokens;
    if tokens.is_empty() {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(given) = given else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing bearer token",
        )
        .into_response();
    };
    match tokens
        .iter()
        .find(|t| constant_time_eq(t.token.expose().as_bytes(), given.as_bytes()))
    {
        None => {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown token").into_response()
        }
        Some(t) if t.role < need => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` has role {:?}, this endpoint needs {:?}",
                t.name, t.role, need
            ),
        )
        .into_response(),
        Some(t) => {
            req.extensions_mut()
                .insert(Caller(format!("token:{}", t.name)));
            next.run(req).await
        }
    }
}

/// Compares without an early exit, so timing does not reveal how much of a token matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Who made a request, for the audit trail: `token:NAME`, or `anonymous` when the API is open.
pub(crate) fn actor(s: &AppState, h: &axum::http::HeaderMap) -> String {
    let given = h
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    given
        .and_then(|g| {
            s.engine
                .config
                .auth
                .tokens
                .iter()
                .find(|t| constant_time_eq(t.token.expose().as_bytes(), g.as_bytes()))
        })
        .map_or_else(|| "anonymous".to_string(), |t| format!("token:{}", t.name))
}
