use super::*;

fn allowed() -> Vec<PathBuf> {
    vec![PathBuf::from("/bin/echo"), PathBuf::from("/usr/bin/touch")]
}

fn parse(text: &str) -> Result<Runbook, LoadError> {
    Runbook::parse(text, Path::new("rb/restart.yaml"), &allowed())
}

const FULL: &str = r#"name: restart-api
description: restart the API when its error rate climbs
mode: approve
confidence_threshold: 0.6
trigger:
  title_contains: Errors
  labels: {service: api}
  priority_at_least: 2
  root_cause_service: api
  alert_names: [HighErrorRate]
parameters:
  service: {from: incident.labels.service, pattern: "[a-z0-9-]{1,63}"}
  title: {from: incident.title}
target: "{{service}}"
preconditions:
  - 'errors_total > 0'
steps:
  - name: restart
    command: [/usr/bin/touch, "{{service}}"]
    timeout: 5s
  - name: tell
    webhook:
      url: http://127.0.0.1:9/hook
      body: {service: "{{service}}", text: "restarted {{service}} for {{title}}", n: 3}
  - name: note
    annotate: "restarted {{service}}"
verification:
  query: 'errors_total < 1'
  within: 2m
rollback:
  - name: undo
    command: [/bin/echo, undo, "{{service}}"]
limits: {max_runs_per_hour: 3, cooldown: 10m}
"#;

#[test]
fn a_full_runbook_loads() {
    let rb = parse(FULL).unwrap();
    assert_eq!(rb.name, "restart-api");
    assert_eq!(rb.mode, Mode::Approve);
    assert_eq!(rb.confidence_threshold, 0.6);
    assert_eq!(rb.trigger.title_contains.as_deref(), Some("errors"));
    assert_eq!(rb.params.len(), 2);
    assert_eq!(rb.steps.len(), 3);
    assert_eq!(rb.steps[0].timeout, Duration::from_secs(5));
    assert!(
        matches!(&rb.steps[1].kind, StepKind::Webhook { method, .. } if method == reqwest::Method::POST)
    );
    assert_eq!(rb.rollback.len(), 1);
    assert_eq!(
        rb.verification.as_ref().unwrap().within,
        Duration::from_secs(120)
    );
    assert_eq!(rb.limits.max_runs_per_hour, Some(3));
    let p = &rb.params["service"];
    assert!(p.pattern.as_ref().unwrap().is_match("api"));
    // Patterns are anchored: a value with more around it does not pass.
    assert!(!p.pattern.as_ref().unwrap().is_match("../api"));
}

#[test]
fn a_command_outside_the_allowlist_is_refused_with_file_and_line() {
    let text = FULL.replace("[/bin/echo, undo,", "[/bin/rm, -rf,");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.file, "rb/restart.yaml");
    assert_eq!(e.line, 32, "{e}");
    assert!(e.column > 0);
    assert!(
        e.message
            .contains("`/bin/rm` is not in remediation.allowed_commands"),
        "{e}"
    );
    assert!(e.to_string().starts_with("rb/restart.yaml:32:"), "{e}");
    // A shell is not special: it is refused like any other unlisted program.
    let text = FULL.replace(
        "[/usr/bin/touch, \"{{service}}\"]",
        "[/bin/sh, -c, \"touch {{service}}\"]",
    );
    let e = parse(&text).unwrap_err();
    assert_eq!(e.line, 19, "{e}");
}

#[test]
fn parameters_fill_whole_arguments_only() {
    let text = FULL.replace(
        "[/bin/echo, undo, \"{{service}}\"]",
        "[/bin/echo, \"--name={{service}}\"]",
    );
    let e = parse(&text).unwrap_err();
    assert!(e.message.contains("must be a whole argument"), "{e}");
    assert_eq!(e.line, 32);
}

#[test]
fn references_and_sources_are_checked() {
    let e = parse(&FULL.replace(
        "annotate: \"restarted {{service}}\"",
        "annotate: \"{{nope}}\"",
    ))
    .unwrap_err();
    assert!(
        e.message.contains("`{{nope}}` is not a declared parameter"),
        "{e}"
    );
    assert_eq!(e.line, 26);
    let e = parse(&FULL.replace("from: incident.title", "from: env.HOME")).unwrap_err();
    assert!(e.message.contains("unknown parameter source"), "{e}");
    assert_eq!(e.line, 13);
    let e = parse(&FULL.replace(
        "url: http://127.0.0.1:9/hook",
        "url: \"http://{{service}}/hook\"",
    ))
    .unwrap_err();
    assert!(e.message.contains("url cannot hold parameters"), "{e}");
    let e = parse(&FULL.replace("url: http://127.0.0.1:9/hook", "url: file:///etc/passwd"))
        .unwrap_err();
    assert!(e.message.contains("http or https"), "{e}");
    let e = parse(&FULL.replace("'errors_total > 0'", "'rate(x[5m]'")).unwrap_err();
    assert!(e.message.contains("invalid PromQL"), "{e}");
    assert_eq!(e.line, 16);
}

#[test]
fn shape_errors_are_located() {
    let e = parse(&FULL.replace("mode: approve", "mode: yolo")).unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    let e =
        parse(&FULL.replace("  - name: tell\n", "  - name: tell\n    annotate: x\n")).unwrap_err();
    assert!(e.message.contains("exactly one of"), "{e}");
    let e =
        parse(&FULL.replace("confidence_threshold: 0.6", "confidence_threshold: 1.5")).unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    let e = parse(&FULL.replace("limits: {", "limits: {bogus: 1, ")).unwrap_err();
    assert!(e.message.contains("bogus"), "{e}");
    let bare = "name: x\nmode: auto\ntrigger: {}\nsteps:\n  - {name: s, annotate: hi}\n";
    let e = parse(bare).unwrap_err();
    assert!(e.message.contains("at least one criterion"), "{e}");
}

#[test]
fn a_directory_loads_reports_and_notices_changes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), FULL).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let set = RunbookSet::load_dir(dir.path(), &allowed());
    assert_eq!(set.runbooks.len(), 1);
    assert!(set.errors.is_empty());
    assert!(!set.is_stale(dir.path()));
    std::fs::write(dir.path().join("b.yml"), FULL).unwrap();
    assert!(set.is_stale(dir.path()));
    let set = RunbookSet::load_dir(dir.path(), &allowed());
    assert_eq!(set.runbooks.len(), 1);
    assert!(
        set.errors[0].message.contains("duplicate runbook name"),
        "{:?}",
        set.errors
    );
}

#[test]
fn kubernetes_steps_are_checked() {
    let with = |step: &str| {
        FULL.replace(
            "  - name: note\n    annotate: \"restarted {{service}}\"\n",
            &format!("  - name: kube\n    kubernetes: {step}\n"),
        )
    };
    let rb = parse(&with(
        "{action: scale, namespace: prod, name: \"{{service}}\", replicas: 3}",
    ))
    .unwrap();
    assert!(matches!(
        &rb.steps[2].kind,
        StepKind::Kubernetes {
            verb: crate::kubernetes::Verb::Scale,
            replicas: Some(3),
            ..
        }
    ));
    let rb = parse(&with("{action: rollout_restart, name: api}")).unwrap();
    assert!(
        matches!(&rb.steps[2].kind, StepKind::Kubernetes { namespace, .. }
        if namespace.render(&BTreeMap::new()) == "default")
    );
    for (step, why) in [
        ("{action: scale, name: api}", "scale needs replicas"),
        (
            "{action: delete_pod, name: api, replicas: 2}",
            "only scale takes replicas",
        ),
        ("{action: cordon, namespace: x, name: n1}", "no namespace"),
        (
            "{action: rollout_restart, name: \"api-{{service}}\"}",
            "whole value",
        ),
        ("{action: drain, name: n1}", "drain"),
    ] {
        let e = parse(&with(step)).unwrap_err();
        assert!(e.message.contains(why), "{step}: {e}");
        assert_eq!(e.line, 26, "{step}: {e}");
    }
}
