//! Replies after the turn latency, and client tools (§1.3
//! `client_tool_call` → §1.2 `client_tool_result` → `agent_tool_response`).

use std::time::Instant;

use serde_json::json;

use super::ending::End;
use super::events;
use super::session::{Pending, Session, ToolWait};
use super::speech::TurnExtras;
use super::turns::fill;
use crate::state::new_id;

impl Session {
    /// The latency is over: call a tool first, or speak.
    pub(super) async fn respond(&mut self, pending: Pending) -> Option<End> {
        let tool = pending.reply.tool_call.clone().filter(|t| {
            self.agent.client_tools.contains(&t.tool_name) && self.agent.emits("client_tool_call")
        });
        let Some(tool) = tool else {
            let text = fill(&pending.reply.text, &pending.user_text, "");
            let extras = TurnExtras {
                latency: Some(pending.latency),
                end_call: pending.reply.end_call,
                ..TurnExtras::default()
            };
            self.start_speech(text, extras).await;
            return None;
        };
        let id = self.event_id();
        let tool_call_id = new_id("toolu_");
        let call = events::client_tool_call(&tool.tool_name, &tool_call_id, &tool.parameters, id);
        let now = Instant::now();
        self.tool_wait = Some(ToolWait {
            tool_call_id,
            tool_name: tool.tool_name,
            parameters: tool.parameters,
            pending,
            asked_at: now,
            deadline: now + self.shared.timing.tool_result_timeout,
        });
        self.send(&call).await
    }

    pub(super) async fn on_tool_result(
        &mut self,
        tool_call_id: &str,
        result: String,
        is_error: bool,
    ) -> Option<End> {
        if self
            .tool_wait
            .as_ref()
            .is_none_or(|w| w.tool_call_id != tool_call_id)
        {
            tracing::debug!(tool_call_id, "client_tool_result for no pending call");
            return None;
        }
        let wait = self.tool_wait.take()?;
        self.finish_tool(wait, result, is_error).await
    }

    pub(super) async fn tool_result_timed_out(&mut self) -> Option<End> {
        let wait = self.tool_wait.take()?;
        self.finish_tool(wait, "Tool call timed out".to_owned(), true)
            .await
    }

    async fn finish_tool(&mut self, wait: ToolWait, result: String, is_error: bool) -> Option<End> {
        let latency = wait.asked_at.elapsed();
        if self.agent.emits("agent_tool_response") {
            let id = self.event_id();
            let event = events::agent_tool_response(
                &wait.tool_name,
                &wait.tool_call_id,
                "client",
                is_error,
                id,
            );
            if let Some(end) = self.send(&event).await {
                return Some(end);
            }
        }
        let extras = TurnExtras {
            tool_calls: vec![json!({
                "type": "client",
                "request_id": wait.tool_call_id,
                "tool_name": wait.tool_name,
                "params_as_json": wait.parameters.to_string(),
                "tool_has_been_called": true,
                "tool_details": null,
            })],
            tool_results: vec![json!({
                "type": "client",
                "request_id": wait.tool_call_id,
                "tool_name": wait.tool_name,
                "result_value": result,
                "is_error": is_error,
                "tool_has_been_called": true,
                "tool_latency_secs": latency.as_secs_f64(),
                "dynamic_variable_updates": [],
            })],
            latency: Some(wait.pending.latency),
            end_call: wait.pending.reply.end_call,
        };
        let text = fill(&wait.pending.reply.text, &wait.pending.user_text, &result);
        self.start_speech(text, extras).await;
        None
    }
}
