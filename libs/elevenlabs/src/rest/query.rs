//! Filters of `GET /v1/convai/conversations` (§2.1).

use url::Url;

use super::Outcome;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub cursor: Option<String>,
    pub agent_id: Option<String>,
    pub user_id: Option<String>,
    pub call_successful: Option<Outcome>,
    /// Unix seconds.
    pub call_start_before_unix: Option<i64>,
    /// Unix seconds.
    pub call_start_after_unix: Option<i64>,
    /// 1–100; the server default is 30.
    pub page_size: Option<u32>,
    /// Ask for `transcript_summary` in each item (`summary_mode=include`).
    pub include_summary: bool,
}

impl ListQuery {
    pub(crate) fn apply(&self, url: &mut Url) {
        let mut pairs = url.query_pairs_mut();
        let optional = [
            ("cursor", self.cursor.clone()),
            ("agent_id", self.agent_id.clone()),
            ("user_id", self.user_id.clone()),
            (
                "call_successful",
                self.call_successful.clone().map(String::from),
            ),
            (
                "call_start_before_unix",
                self.call_start_before_unix.map(|secs| secs.to_string()),
            ),
            (
                "call_start_after_unix",
                self.call_start_after_unix.map(|secs| secs.to_string()),
            ),
            ("page_size", self.page_size.map(|size| size.to_string())),
            (
                "summary_mode",
                self.include_summary.then(|| "include".to_owned()),
            ),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                pairs.append_pair(name, &value);
            }
        }
    }
}
