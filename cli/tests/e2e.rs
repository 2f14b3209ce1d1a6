//! The whole stack end to end: nats-server (testkit), mongo-memory, the
//! ElevenLabs simulator and the four services, driven by clients over the
//! gateway's WebSocket. One test binary, so the stack links once.

mod e2e {
    mod abuse;
    mod api_authz;
    mod api_chat;
    mod api_history;
    mod api_money;
    mod api_webhooks;
    mod calls;
    mod dashboard;
    mod faults;
    pub mod harness;
    mod load;
    mod python_sdk;
    mod shape;
    mod spend;
}
