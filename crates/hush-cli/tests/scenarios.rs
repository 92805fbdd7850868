//! `hush eval scenarios` in CI on a few seeds: the pipeline the demo runs names the right root
//! cause for the scenarios it is known to handle, and the scorer's table adds up.

use std::process::Command;

#[test]
fn scenarios_eval_scores_known_good_scenarios_right() {
    let out = Command::new(env!("CARGO_BIN_EXE_hush"))
        .args([
            "eval",
            "scenarios",
            "--seeds",
            "2",
            "--scenarios",
            "db-slowdown,bad-deploy",
            "--duration",
            "40m",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Rows: scenario runs right top-3 wrong missed change noise.
    for name in ["db-slowdown", "bad-deploy"] {
        let row: Vec<&str> = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{text}"))
            .split_whitespace()
            .collect();
        assert_eq!(row[1], "2", "{text}");
        assert_eq!(
            (row[2], row[3], row[4], row[5]),
            ("2", "2", "0", "0"),
            "{name}: {text}"
        );
    }
    // The bad deploy is named as the change, not just the service.
    let deploy: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("bad-deploy"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(deploy.get(6), Some(&"2/2"), "{text}");
    assert!(
        text.contains("root cause named right (top-1): 4/4 = 1.000"),
        "{text}"
    );
}

#[test]
fn unknown_scenario_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_hush"))
        .args(["eval", "scenarios", "--scenarios", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}
