//! No cluster runs here: each action is checked against a replayed API exchange. A local HTTP
//! server answers with response bodies shaped as the Kubernetes API reference documents them,
//! and records the requests the `kube` client really sent (method, path, content type, body).

use super::*;
use parking_lot::Mutex;
use std::sync::Arc;

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    content_type: String,
    body: serde_json::Value,
}

/// The replayed responses, by method and path.
fn reply(method: &str, path: &str) -> (u16, serde_json::Value) {
    let meta = |kind: &str, api: &str| {
        serde_json::json!({"apiVersion": api, "kind": kind,
            "metadata": {"name": path.rsplit('/').next().unwrap_or(""), "namespace": "prod"}})
    };
    match (method, path) {
        ("PATCH", "/apis/apps/v1/namespaces/prod/deployments/api") => {
            (200, meta("Deployment", "apps/v1"))
        }
        ("PATCH", "/apis/apps/v1/namespaces/prod/deployments/api/scale") => (
            200,
            serde_json::json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
                "metadata": {"name": "api", "namespace": "prod"},
                "spec": {"replicas": 3}, "status": {"replicas": 2}}),
        ),
        ("DELETE", "/api/v1/namespaces/prod/pods/api-7d9f-x2") => (200, meta("Pod", "v1")),
        ("PATCH", "/api/v1/nodes/node-1") => (200, meta("Node", "v1")),
        _ => (
            404,
            serde_json::json!({"apiVersion": "v1", "kind": "Status", "status": "Failure",
                "message": format!("{path} not found"), "reason": "NotFound", "code": 404}),
        ),
    }
}

async fn api_server() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let s = s.clone();
        async move {
            let method = req.method().to_string();
            let path = req.uri().path().to_owned();
            let content_type = req
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            let (code, out) = reply(&method, &path);
            s.lock().push(Seen {
                method,
                path,
                content_type,
                body,
            });
            (
                axum::http::StatusCode::from_u16(code).unwrap(),
                axum::Json(out),
            )
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, seen)
}

async fn env(url: &str) -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let db = hush_sql::SqlStore::open(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("k.db").display()
    ))
    .await
    .unwrap();
    std::mem::forget(dir);
    Env {
        http: reqwest::Client::new(),
        db,
        max_output_bytes: 1024,
        actor: "runbook:k".into(),
        kube: KubeSettings {
            url: Some(url.to_owned()),
            token_file: None,
        },
    }
}

fn action(verb: Verb, ns: &str, name: &str, replicas: Option<i32>) -> KubeAction {
    KubeAction {
        verb,
        namespace: ns.into(),
        name: name.into(),
        replicas,
        timeout: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn each_action_sends_the_documented_request() {
    let (url, seen) = api_server().await;
    let env = env(&url).await;

    let restart = action(Verb::RolloutRestart, "prod", "api", None);
    let out = restart.run(&env).await;
    assert!(out.ok, "{out:?}");
    let scale = action(Verb::Scale, "prod", "api", Some(3));
    let out = scale.run(&env).await;
    assert!(out.ok, "{out:?}");
    assert_eq!(out.summary, "scaled deployment prod/api to 3");
    assert!(
        action(Verb::DeletePod, "prod", "api-7d9f-x2", None)
            .run(&env)
            .await
            .ok
    );
    assert!(action(Verb::Cordon, "", "node-1", None).run(&env).await.ok);

    let seen = seen.lock().clone();
    assert_eq!(seen.len(), 4, "{seen:#?}");
    assert_eq!(seen[0].method, "PATCH");
    assert_eq!(
        seen[0].path,
        "/apis/apps/v1/namespaces/prod/deployments/api"
    );
    assert_eq!(seen[0].content_type, "application/merge-patch+json");
    assert!(
        seen[0].body["spec"]["template"]["metadata"]["annotations"]["kube.kubernetes.io/restartedAt"]
            .is_string(),
        "{:?}",
        seen[0].body
    );
    assert_eq!(
        seen[1].path,
        "/apis/apps/v1/namespaces/prod/deployments/api/scale"
    );
    assert_eq!(seen[1].content_type, "application/merge-patch+json");
    assert_eq!(seen[1].body, serde_json::json!({"spec": {"replicas": 3}}));
    assert_eq!(
        (seen[2].method.as_str(), seen[2].path.as_str()),
        ("DELETE", "/api/v1/namespaces/prod/pods/api-7d9f-x2")
    );
    assert_eq!(seen[3].path, "/api/v1/nodes/node-1");
    assert_eq!(
        seen[3].body,
        serde_json::json!({"spec": {"unschedulable": true}})
    );
    // The dry-run names the same request.
    assert_eq!(
        scale.dry_run(),
        Planned::Kubernetes {
            action: Verb::Scale,
            namespace: "prod".into(),
            name: "api".into(),
            replicas: Some(3),
            request: "PATCH /apis/apps/v1/namespaces/prod/deployments/api/scale".into(),
            timeout_ms: 10_000,
        }
    );
}

#[tokio::test]
async fn api_errors_fail_the_step_and_bad_names_never_leave() {
    let (url, seen) = api_server().await;
    let env = env(&url).await;
    let out = action(Verb::RolloutRestart, "prod", "missing", None)
        .run(&env)
        .await;
    assert!(!out.ok);
    assert!(out.summary.contains("not found"), "{out:?}");
    for (ns, name) in [
        ("prod", "../../api/v1/nodes/node-1"),
        ("prod", "api?dryRun=All"),
        ("../kube-system", "api"),
        ("prod", ""),
        ("prod", "API"),
    ] {
        let out = action(Verb::DeletePod, ns, name, None).run(&env).await;
        assert!(!out.ok);
        assert!(
            out.summary.contains("not a valid Kubernetes name"),
            "{out:?}"
        );
    }
    assert_eq!(
        seen.lock().len(),
        1,
        "only the first request reached the server"
    );
}
