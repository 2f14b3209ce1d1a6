//! The gateway's dashboard (issue 14): its vendored npm files are the
//! pinned packages' own bytes, and a headless Chromium (Debian's
//! `chromium`, driven by `playwright-core` from npm) uses every page
//! against the whole stack: `services/gateway/dashboard/test/browser.mjs`.
//!
//! Both install their npm packages into a cache on first use
//! (`testkit::npm`); without npm, the registry or Chromium they skip with
//! one line. The browser script skips, each with a `skip:` line, the steps
//! whose gateway routes are not served yet.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use events::UserId;
use gateway::Role;
use serde_json::Value;
use testkit::npm::{NpmError, NpmPackages, chromium};

use super::harness::E2e;

const DASHBOARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../services/gateway/dashboard");
const TOKEN_TTL: Duration = Duration::from_secs(3600);
/// The whole browser run, a generous bound for a loaded 2-core machine.
const BROWSER_DEADLINE: Duration = Duration::from_secs(600);

#[allow(clippy::print_stderr)]
fn skip(what: &str, why: &dyn std::fmt::Display) {
    eprintln!("skipping {what}: {why}");
}

async fn packages() -> Result<NpmPackages, NpmError> {
    tokio::task::spawn_blocking(|| NpmPackages::ensure(Path::new(DASHBOARD)))
        .await
        .expect("install task")
}

/// `@elevenlabs/client@1.25.0/lib.iife.js` → (`@elevenlabs/client`, `1.25.0`).
fn package_of(vendored: &str) -> (String, String) {
    let segments = if vendored.starts_with('@') { 2 } else { 1 };
    let head: Vec<&str> = vendored.splitn(segments + 1, '/').take(segments).collect();
    let (name, version) = head
        .join("/")
        .rsplit_once('@')
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .unwrap_or_else(|| panic!("{vendored}: no <package>@<version> folder"));
    (name, version)
}

fn files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("vendor dir") {
        let entry = entry.expect("entry");
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().expect("type").is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

#[tokio::test]
async fn vendored_files_are_the_pinned_npm_packages() {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(Path::new(DASHBOARD).join("vendor.json")).expect("vendor.json"),
    )
    .expect("vendor.json is JSON");
    let listed = manifest["files"].as_object().expect("files");
    let vendor = Path::new(DASHBOARD).join("static/vendor");
    let mut on_disk = Vec::new();
    files_under(&vendor, "", &mut on_disk);
    on_disk.sort();
    let mut names: Vec<String> = listed.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names, on_disk,
        "vendor.json must list static/vendor exactly"
    );

    let packages = match packages().await {
        Ok(packages) => packages,
        Err(error) => return skip("the vendored-files check", &error),
    };
    for (vendored, source) in listed {
        let (name, version) = package_of(vendored);
        let package = packages.package(&name);
        let installed: Value = serde_json::from_slice(
            &std::fs::read(package.join("package.json")).expect("installed package.json"),
        )
        .expect("package.json");
        assert_eq!(
            installed["version"], version,
            "{vendored}: package-lock.json pins another {name}"
        );
        let source = package.join(source.as_str().expect("a path"));
        let pinned = std::fs::read(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        let ours = std::fs::read(vendor.join(vendored)).expect("vendored file");
        assert!(
            pinned == ours,
            "static/vendor/{vendored} differs from {}; copy it again",
            source.display()
        );
    }
}

#[tokio::test]
async fn a_browser_uses_every_page() {
    let Some(chromium) = chromium() else {
        return skip(
            "the dashboard browser test",
            &"no `chromium` (./dev test installs Debian's)",
        );
    };
    let packages = match packages().await {
        Ok(packages) => packages,
        Err(error) => return skip("the dashboard browser test", &error),
    };
    let e2e = E2e::start().await;
    e2e.wait_for_session().await;
    let (user, token) = e2e.user(10_000).await;
    let admin = gateway::issue_token(&e2e.secret, UserId::new(), Role::Admin, TOKEN_TTL);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    let mut command = tokio::process::Command::new("node");
    command
        .arg(Path::new(DASHBOARD).join("test/browser.mjs"))
        .env("PARLOR_GATEWAY", e2e.gateway_http())
        .env("PARLOR_USER_TOKEN", &token)
        .env("PARLOR_USER_ID", user.to_string())
        .env("PARLOR_ADMIN_TOKEN", &admin)
        .env("PARLOR_AGENT_ID", e2e.sim.default_agent_id())
        .env("PARLOR_CHROMIUM", &chromium)
        .env(
            "PARLOR_NPM_DIR",
            packages.node_modules().parent().expect("dir"),
        )
        .env("PARLOR_SHOTS", &shots)
        .kill_on_drop(true);
    let output: Output = match tokio::time::timeout(BROWSER_DEADLINE, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => return skip("the dashboard browser test (node)", &error),
        Err(_) => panic!("the browser test ran past {BROWSER_DEADLINE:?}"),
    };
    let printed = String::from_utf8_lossy(&output.stdout);
    #[allow(clippy::print_stderr)]
    for line in printed.lines().filter(|l| l.starts_with("skip:")) {
        eprintln!("{line}");
    }
    assert!(
        output.status.success(),
        "the browser test failed (screenshots in {}):\n{printed}\n{}",
        shots.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    e2e.stop().await;
}
