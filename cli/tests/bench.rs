//! `parlor bench --quick` runs every bench to completion and writes every
//! figure to its JSON file. Figures are never asserted: durations on a
//! shared machine are not a test's business.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The memory bench runs the `gateway` and `session` binaries beside
/// `parlor`. `cargo test --workspace` builds them; `cargo test -p parlor`
/// alone does not, so they are built here when missing.
fn build_service_binaries(bin_dir: &Path) {
    if ["gateway", "session"]
        .iter()
        .all(|name| bin_dir.join(name).is_file())
    {
        return;
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "gateway", "-p", "session", "--bins"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("running cargo");
    assert!(status.success(), "building gateway and session");
    for name in ["gateway", "session"] {
        assert!(bin_dir.join(name).is_file(), "{name} beside parlor");
    }
}

#[test]
fn a_quick_bench_writes_every_figure() {
    let parlor = Path::new(env!("CARGO_BIN_EXE_parlor"));
    build_service_binaries(parlor.parent().expect("target dir"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("bench.json");
    let output = Command::new(parlor)
        .args(["bench", "--quick", "--calls", "1,2", "--out"])
        .arg(&out)
        .output()
        .expect("running parlor bench");
    assert!(
        output.status.success(),
        "parlor bench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8_lossy(&output.stdout);
    let report: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("bench.json")).expect("JSON");
    for field in ["cores", "arch", "build"] {
        assert!(!report["machine"][field].is_null(), "machine.{field}");
    }
    let figures = report["figures"].as_array().expect("figures");
    for bench in [
        "append",
        "relay",
        "ledger",
        "rebuild",
        "projector",
        "memory",
    ] {
        assert!(
            figures.iter().any(|f| f["bench"] == bench),
            "{bench} in the JSON"
        );
        assert!(table.contains(bench), "{bench} in the table:\n{table}");
    }
    let relay = figures.iter().filter(|f| f["bench"] == "relay").count();
    assert_eq!(relay, 4, "p50 and p99 at each of --calls 1,2");
    for figure in figures {
        for field in [
            "figure",
            "unit",
            "value",
            "baseline_name",
            "baseline",
            "ratio",
        ] {
            assert!(!figure[field].is_null(), "{field} in {figure}");
        }
    }
}

#[test]
fn a_bad_calls_list_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["bench", "--calls", "1,0"])
        .output()
        .expect("running parlor bench");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--calls"));
}
