//! The bundled Prometheus alert rules: `promtool check rules` accepts them and their unit
//! tests (`grafana/alerts/*.test.yml`) pass.

use std::path::Path;
use std::process::Command;

/// Whether `tool` can run; without it the test is skipped, or fails when
/// `SALES_EXPORTER_REQUIRE_TOOLS=1` says it must be there.
fn tool_available(tool: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("SALES_EXPORTER_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{tool} not found and SALES_EXPORTER_REQUIRE_TOOLS=1"
        );
        println!("skipping: {tool} not found; install Debian's prometheus package (or set SALES_EXPORTER_REQUIRE_TOOLS=1 to make this a failure)");
    }
    found
}

fn promtool(args: &[&str]) -> (bool, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("grafana/alerts");
    let output = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The rule file is valid for promtool.
#[test]
fn alert_rules_pass_promtool_check() {
    if !tool_available("promtool") {
        return;
    }
    let (ok, text) = promtool(&["check", "rules", "sales_exporter.rules.yml"]);
    assert!(ok && text.contains("SUCCESS: 4 rules found"), "{text}");
}

/// Each rule fires where it should, stays quiet on small samples, missing series and
/// recovery, and waits for its `for` duration.
#[test]
fn alert_rule_unit_tests_pass() {
    if !tool_available("promtool") {
        return;
    }
    let (ok, text) = promtool(&["test", "rules", "sales_exporter.rules.test.yml"]);
    assert!(ok && text.contains("SUCCESS"), "{text}");
}
