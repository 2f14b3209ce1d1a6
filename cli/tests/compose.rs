//! docker-compose.yml describes the production shape; no Docker engine runs
//! here, so this reads it against the workspace: two copies of every
//! service, each running a binary the image holds, given only variables it
//! reads, with a healthcheck, next to a 3-node NATS cluster and a MongoDB
//! replica set whose stores live on volumes.

use std::path::Path;

use serde_yaml::Value;

fn compose() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker-compose.yml");
    let text = std::fs::read_to_string(&path).expect("docker-compose.yml at the top level");
    let mut value: Value = serde_yaml::from_str(&text).expect("valid YAML");
    value.apply_merge().expect("merge keys resolve");
    value
}

fn services(compose: &Value) -> &serde_yaml::Mapping {
    compose["services"].as_mapping().expect("a services map")
}

#[test]
fn nats_is_a_three_node_jetstream_cluster_and_mongo_a_replica_set() {
    let compose = compose();
    let services = services(&compose);
    for n in 1..=3 {
        let nats = &services[format!("nats-{n}").as_str()];
        let args: Vec<&str> = nats["command"]
            .as_sequence()
            .expect("nats command")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            args.contains(&"-js") && args.contains(&"--routes"),
            "nats-{n}: {args:?}"
        );
        assert!(nats["healthcheck"].is_mapping());
        let mongo = &services[format!("mongo-{n}").as_str()];
        assert!(
            mongo["command"]
                .as_sequence()
                .expect("mongo command")
                .iter()
                .any(|a| a.as_str() == Some("--replSet"))
        );
        assert!(mongo["healthcheck"].is_mapping());
    }
}

/// The Parlor services of the workspace.
const PARLOR: [&str; 4] = ["gateway", "ledger", "projector", "session"];

fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The compose services running `binary`'s service (`parlor serve <binary>`,
/// which stops gracefully on SIGTERM).
fn copies<'a>(services: &'a serde_yaml::Mapping, binary: &str) -> Vec<(&'a str, &'a Value)> {
    services
        .iter()
        .filter(|(_, s)| {
            s["command"][0].as_str() == Some("parlor")
                && s["command"][1].as_str() == Some("serve")
                && s["command"][2].as_str() == Some(binary)
        })
        .filter_map(|(name, s)| Some((name.as_str()?, s)))
        .collect()
}

fn environment(service: &Value) -> Vec<(&str, &str)> {
    service["environment"]
        .as_mapping()
        .map(|env| {
            env.iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Every upper-case string literal in the Rust sources under `dir`: the
/// environment variables that code can read, among other constants.
fn literals(dir: &Path, into: &mut std::collections::BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            literals(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("source");
            for quoted in text.split('"').skip(1).step_by(2) {
                let name = quoted.len() > 2
                    && quoted
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if name {
                    into.insert(quoted.to_owned());
                }
            }
        }
    }
}

/// The variables `service` (its crate and every library) can read.
fn read_by(service: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    literals(
        &workspace().join("services").join(service).join("src"),
        &mut names,
    );
    for lib in std::fs::read_dir(workspace().join("libs")).expect("libs/") {
        let src = lib.expect("entry").path().join("src");
        if src.is_dir() {
            literals(&src, &mut names);
        }
    }
    // Read by tracing's env-filter under its default name.
    names.insert("RUST_LOG".to_owned());
    names
}

#[test]
fn two_copies_of_every_service_run_binaries_of_the_workspace() {
    let compose = compose();
    let services = services(&compose);
    let dockerfile = std::fs::read_to_string(workspace().join("Dockerfile")).expect("a Dockerfile");
    for binary in PARLOR {
        let main = workspace()
            .join("services")
            .join(binary)
            .join("src/main.rs");
        assert!(main.is_file(), "{binary} has no binary in the workspace");
        assert!(
            dockerfile.contains(&format!("target/release/{binary}")),
            "the image does not hold the {binary} binary"
        );
        let copies = copies(services, binary);
        assert!(copies.len() >= 2, "{binary}: {} copies", copies.len());
        for (name, service) in copies {
            assert_eq!(service["build"].as_str(), Some("."), "{name} is built here");
            assert!(
                service["healthcheck"]["test"].is_sequence(),
                "{name} has a healthcheck"
            );
            assert!(
                service["restart"].as_str().is_some_and(|r| r != "no"),
                "{name} is restarted when it dies"
            );
        }
    }
}

#[test]
fn every_variable_given_to_a_service_is_one_it_reads() {
    let compose = compose();
    let services = services(&compose);
    for binary in PARLOR {
        let known = read_by(binary);
        for (name, service) in copies(services, binary) {
            for (variable, _) in environment(service) {
                assert!(
                    known.contains(variable),
                    "{name} is given {variable}, which {binary} never reads"
                );
            }
        }
    }
}

#[test]
fn copies_agree_on_the_cluster_and_differ_in_their_names() {
    let compose = compose();
    let services = services(&compose);
    let nats_nodes = services
        .iter()
        .filter(|(name, _)| name.as_str().is_some_and(|n| n.starts_with("nats-")))
        .count();
    for binary in PARLOR {
        for (name, service) in copies(services, binary) {
            let env = environment(service);
            let get = |key: &str| env.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
            assert_eq!(
                get("PARLOR_STREAM_REPLICAS"),
                Some(nats_nodes.to_string().as_str()),
                "{name} keeps a stream copy on every NATS node"
            );
            let nats_url = get("NATS_URL").expect("NATS_URL");
            assert_eq!(
                nats_url.split(',').count(),
                nats_nodes,
                "{name} knows every NATS node"
            );
            for url in nats_url.split(',') {
                let host = url
                    .trim_start_matches("nats://")
                    .split(':')
                    .next()
                    .expect("host");
                assert!(services.contains_key(host), "{name}: no service {host}");
            }
            for dependency in service["depends_on"]
                .as_mapping()
                .expect("depends_on")
                .keys()
            {
                let dependency = dependency.as_str().expect("name");
                assert!(services.contains_key(dependency), "{name}: no {dependency}");
            }
        }
    }
    // A restarted copy recognises its own calls and leases by its name, so
    // copies running together must not share one.
    for (binary, variable) in [
        ("session", "PARLOR_SESSION_INSTANCE"),
        ("projector", "PARLOR_PROJECTOR_INSTANCE"),
    ] {
        let mut names: Vec<_> = copies(services, binary)
            .iter()
            .map(|(name, service)| {
                environment(service)
                    .iter()
                    .find(|(k, _)| *k == variable)
                    .map(|(_, v)| (*v).to_owned())
                    .unwrap_or_else(|| panic!("{name} has no {variable}"))
            })
            .collect();
        let all = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all, "{binary} copies share a {variable}");
    }
    let gateway_ports: Vec<_> = copies(services, "gateway")
        .iter()
        .flat_map(|(_, s)| s["ports"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|p| {
            p.as_str()
                .and_then(|p| p.split(':').next())
                .map(str::to_owned)
        })
        .collect();
    let mut unique = gateway_ports.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        gateway_ports.len(),
        "gateway copies share a host port"
    );
}

#[test]
fn the_stores_live_on_named_volumes() {
    let compose = compose();
    let services = services(&compose);
    let volumes = compose["volumes"].as_mapping().expect("a volumes map");
    for (name, service) in services {
        let name = name.as_str().expect("name");
        if !(name.starts_with("nats-") || (name.starts_with("mongo-") && name != "mongo-init")) {
            continue;
        }
        let mounts: Vec<&str> = service["volumes"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name} keeps its store on a volume"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            mounts
                .iter()
                .any(|m| m.split(':').next().is_some_and(|v| volumes.contains_key(v))),
            "{name}: {mounts:?} mounts no named volume"
        );
    }
}
