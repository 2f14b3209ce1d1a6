//! A second, independent client: a short `pymongo` script (pymongo installed
//! from PyPI into a cache under `target/`) inserts, queries, aggregates and
//! reads back. Skipped with a message when Python or PyPI is unavailable.

use std::path::{Path, PathBuf};
use std::process::Command;

use mongo_memory::MongoMemory;

const SCRIPT: &str = r#"
import sys
from pymongo import MongoClient, ASCENDING
from pymongo.errors import DuplicateKeyError

client = MongoClient(sys.argv[1], serverSelectionTimeoutMS=10000)
db = client["pytest"]
orders = db["orders"]
orders.insert_many([
    {"_id": 1, "customer": "ann", "total": 10, "items": ["a", "b"]},
    {"_id": 2, "customer": "bob", "total": 25, "items": ["c"]},
    {"_id": 3, "customer": "ann", "total": 7, "items": []},
])
print("count", orders.count_documents({"customer": "ann"}))
print("big", [d["_id"] for d in orders.find({"total": {"$gte": 10}}).sort("total", ASCENDING)])
print("items", [d["_id"] for d in orders.find({"items": "c"})])
totals = list(orders.aggregate([
    {"$group": {"_id": "$customer", "sum": {"$sum": "$total"}}},
    {"$sort": {"_id": 1}},
]))
print("totals", [(d["_id"], d["sum"]) for d in totals])
result = orders.update_one({"_id": 2}, {"$inc": {"total": 5}, "$set": {"paid": True}})
print("updated", result.matched_count, result.modified_count)
print("readback", orders.find_one({"_id": 2}, {"_id": 0, "total": 1, "paid": 1}))
orders.create_index([("customer", ASCENDING), ("total", ASCENDING)], unique=True)
try:
    orders.insert_one({"customer": "ann", "total": 10})
    print("duplicate accepted")
except DuplicateKeyError as error:
    print("duplicate", error.code)
print("collections", db.list_collection_names())
"#;

const EXPECTED: &str = "count 2
big [1, 2]
items [2]
totals [('ann', 17), ('bob', 25)]
updated 1 1
readback {'total': 30, 'paid': True}
duplicate 11000
collections ['orders']
";

/// `target/` of this build, found from the test binary's own path (`target/<profile>/deps/…`).
fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors().nth(3).map(Path::to_path_buf)
}

/// Installs pymongo once into `target/pymongo-cache`; `None` (with a message) when impossible.
fn pymongo_path() -> Option<PathBuf> {
    let cache = target_dir()?.join("pymongo-cache");
    let installed = cache.join("site");
    if installed.join("pymongo").is_dir() {
        return Some(installed);
    }
    // Install beside the final place, then rename, so parallel runs never see half an install.
    let staging = cache.join(format!("staging-{}", std::process::id()));
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&staging)
        .arg("pymongo")
        .status();
    match status {
        Ok(status) if status.success() => {}
        _ => {
            skip("pip could not install pymongo (is PyPI reachable?)");
            return None;
        }
    }
    if std::fs::rename(&staging, &installed).is_err() {
        // Another run won the race; its install is complete.
        let _ = std::fs::remove_dir_all(&staging);
    }
    Some(installed)
}

#[allow(clippy::print_stderr)]
fn skip(reason: &str) {
    eprintln!("skipping the pymongo test: {reason}");
}

#[tokio::test]
async fn pymongo_inserts_queries_aggregates_and_reads_back() {
    if Command::new("python3").arg("--version").output().is_err() {
        skip("python3 is not installed");
        return;
    }
    let Some(site) = tokio::task::spawn_blocking(pymongo_path)
        .await
        .expect("install task")
    else {
        return;
    };
    let server = MongoMemory::start().await.expect("start");
    let uri = server.uri();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .env("PYTHONPATH", site)
            .args(["-c", SCRIPT, &uri])
            .output()
    })
    .await
    .expect("script task")
    .expect("run python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pymongo script failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout, EXPECTED, "stderr:\n{stderr}");
}
