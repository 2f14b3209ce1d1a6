//! The README's run command as a user meets it: `parlor up` prints where
//! everything is and a ready line, `parlor demo` holds a conversation
//! through it, and Ctrl-C stops it all cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const READY_WAIT: Duration = Duration::from_secs(120);

#[test]
fn up_then_demo_then_ctrl_c() {
    let data = tempfile::tempdir().expect("data dir");
    let nats_port = testkit::port::free_port().expect("free port");
    let mut up = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("up")
        .env("PARLOR_DATA_DIR", data.path())
        .env("PARLOR_HTTP_ADDR", "127.0.0.1:0")
        .env("PARLOR_NATS_PORT", nats_port.to_string())
        .env_remove("NATS_URL")
        .env_remove("MONGODB_URI")
        .env_remove("ELEVENLABS_API_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("parlor up");

    // Read the announcement on a thread so the wait can have a deadline.
    let stdout = up.stdout.take().expect("stdout");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut announced = Vec::new();
    while !announced
        .iter()
        .any(|l: &String| l.starts_with("parlor is ready"))
    {
        match lines.recv_timeout(READY_WAIT) {
            Ok(line) => announced.push(line),
            Err(e) => {
                let _ = up.kill();
                panic!("no ready line ({e}); printed so far: {announced:#?}");
            }
        }
    }
    for label in [
        "gateway:",
        "nats:",
        "mongodb:",
        "elevenlabs:",
        "agent id:",
        "demo user:",
        "demo token:",
        "dashboard:",
        "admin token:",
    ] {
        assert!(
            announced.iter().any(|l| l.starts_with(label)),
            "`{label}` missing from {announced:#?}"
        );
    }
    assert!(
        announced
            .iter()
            .any(|l| l.contains(&format!("nats://127.0.0.1:{nats_port}")))
    );

    let demo = Command::new(env!("CARGO_BIN_EXE_parlor"))
        .arg("demo")
        .env("PARLOR_DATA_DIR", data.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("parlor demo");
    let printed = String::from_utf8_lossy(&demo.stdout);
    assert!(
        demo.status.success(),
        "demo failed: {printed}\n{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    assert!(printed.contains("ended: 1000"), "{printed}");
    assert!(printed.contains("\"status\": \"done\""), "{printed}");
    assert!(printed.contains("available, 0 held"), "{printed}");

    let interrupted = Command::new("kill")
        .args(["-INT", &up.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let status = up.wait().expect("parlor up exits");
    assert!(status.success(), "parlor up stopped with {status}");
}
