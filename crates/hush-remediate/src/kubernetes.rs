//! Kubernetes actions through the API server with the `kube` client: rollout restart, scale a
//! deployment, delete a pod, cordon a node.
//!
//! The cluster comes from `remediation.kubernetes.url` (with an optional bearer token file), or
//! else from the usual kubeconfig / in-cluster inference. Names and namespaces rendered from an
//! incident must be valid Kubernetes names, so incident data cannot reach another path of the API.

use crate::action::{Action, Env, Outcome, Planned};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Where the Kubernetes API is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubeSettings {
    /// API server URL; unset means kubeconfig (`KUBECONFIG`, `~/.kube/config`) or in-cluster.
    pub url: Option<String>,
    /// File holding a bearer token for `url`.
    pub token_file: Option<PathBuf>,
}

/// The closed set of Kubernetes actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// `kubectl rollout restart deployment/NAME`.
    RolloutRestart,
    /// Set a deployment's replicas.
    Scale,
    /// Delete a pod (its controller replaces it).
    DeletePod,
    /// Mark a node unschedulable.
    Cordon,
}

/// A rendered Kubernetes action.
pub struct KubeAction {
    pub verb: Verb,
    pub namespace: String,
    pub name: String,
    pub replicas: Option<i32>,
    pub timeout: Duration,
}

/// DNS-1123 subdomain: what Kubernetes accepts as an object name (and a namespace is stricter).
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

impl KubeAction {
    fn path(&self) -> String {
        let (ns, n) = (&self.namespace, &self.name);
        match self.verb {
            Verb::RolloutRestart => format!("PATCH /apis/apps/v1/namespaces/{ns}/deployments/{n}"),
            Verb::Scale => format!("PATCH /apis/apps/v1/namespaces/{ns}/deployments/{n}/scale"),
            Verb::DeletePod => format!("DELETE /api/v1/namespaces/{ns}/pods/{n}"),
            Verb::Cordon => format!("PATCH /api/v1/nodes/{n}"),
        }
    }

    async fn client(settings: &KubeSettings) -> Result<kube::Client, String> {
        let config = match &settings.url {
            Some(u) => {
                let uri = u
                    .parse()
                    .map_err(|e| format!("bad remediation.kubernetes.url `{u}`: {e}"))?;
                let mut c = kube::Config::new(uri);
                c.auth_info.token_file = settings
                    .token_file
                    .as_ref()
                    .map(|p| p.display().to_string());
                c
            }
            None => kube::Config::infer()
                .await
                .map_err(|e| format!("no Kubernetes configuration: {e}"))?,
        };
        let mut config = config;
        // One request per action: whether it worked is for the runbook's verification to say,
        // not for a retry that could apply it twice.
        config.default_retry = false;
        kube::Client::try_from(config).map_err(|e| format!("failed to build the client: {e}"))
    }

    async fn call(&self, settings: &KubeSettings) -> Result<String, String> {
        let namespaced = self.verb != Verb::Cordon;
        if !valid_name(&self.name) || (namespaced && !valid_name(&self.namespace)) {
            return Err(format!(
                "`{}` in namespace `{}` is not a valid Kubernetes name",
                self.name.chars().take(64).collect::<String>(),
                self.namespace.chars().take(64).collect::<String>()
            ));
        }
        let client = Self::client(settings).await?;
        let (ns, n) = (self.namespace.as_str(), self.name.as_str());
        let err = |e: kube::Error| e.to_string();
        match self.verb {
            Verb::RolloutRestart => {
                Api::<Deployment>::namespaced(client, ns)
                    .restart(n)
                    .await
                    .map_err(err)?;
                Ok(format!("restarted deployment {ns}/{n}"))
            }
            Verb::Scale => {
                let replicas = self.replicas.ok_or("scale needs replicas")?;
                let patch = serde_json::json!({"spec": {"replicas": replicas}});
                let s = Api::<Deployment>::namespaced(client, ns)
                    .patch_scale(n, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(err)?;
                let now = s.spec.and_then(|s| s.replicas).unwrap_or(replicas);
                Ok(format!("scaled deployment {ns}/{n} to {now}"))
            }
            Verb::DeletePod => {
                Api::<Pod>::namespaced(client, ns)
                    .delete(n, &DeleteParams::default())
                    .await
                    .map_err(err)?;
                Ok(format!("deleted pod {ns}/{n}"))
            }
            Verb::Cordon => {
                Api::<Node>::all(client).cordon(n).await.map_err(err)?;
                Ok(format!("cordoned node {n}"))
            }
        }
    }
}

impl Action for KubeAction {
    fn dry_run(&self) -> Planned {
        Planned::Kubernetes {
            action: self.verb,
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            replicas: self.replicas,
            request: self.path(),
            timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn run<'a>(
        &'a self,
        env: &'a Env,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + Send + 'a>> {
        Box::pin(async move {
            let r = tokio::time::timeout(self.timeout, self.call(&env.kube)).await;
            let (ok, summary) = match r {
                Err(_) => (false, format!("{} timed out", self.path())),
                Ok(Err(e)) => (false, format!("{} failed: {e}", self.path())),
                Ok(Ok(s)) => (true, s),
            };
            Outcome {
                ok,
                summary,
                output: serde_json::Value::Null,
            }
        })
    }
}

#[cfg(test)]
mod tests;
