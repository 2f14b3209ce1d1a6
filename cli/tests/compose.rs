//! docker-compose.yml describes the production shape; no Docker engine runs
//! here, so this reads it: every service of the workspace is in it with a
//! healthcheck, next to a 3-node NATS cluster and a MongoDB replica set.

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
fn every_workspace_service_is_in_compose_with_a_healthcheck() {
    let compose = compose();
    let services = services(&compose);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../services");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("services/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["gateway", "ledger", "projector", "session"]);
    for name in &names {
        let service = &services[name.as_str()];
        assert!(
            service.is_mapping(),
            "{name} is missing from docker-compose.yml"
        );
        assert_eq!(
            service["command"][0].as_str(),
            Some(name.as_str()),
            "{name} runs its own binary"
        );
        assert!(
            service["healthcheck"]["test"].is_sequence(),
            "{name} has a healthcheck"
        );
        let env = &service["environment"];
        assert!(
            env["NATS_URL"]
                .as_str()
                .is_some_and(|u| u.matches("nats://").count() == 3)
        );
        assert!(
            env["MONGODB_URI"]
                .as_str()
                .is_some_and(|u| u.contains("replicaSet="))
        );
    }
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
