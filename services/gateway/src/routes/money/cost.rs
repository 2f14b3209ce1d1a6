//! `GET /api/users/{userId}/conversation-cost`: the seed's cost route. A
//! user's cost per UTC day or month (credits and money), minutes and cost
//! per minute, with totals, from the projector's `user_usage_daily` /
//! `user_usage_monthly`.

use axum::Json;
use axum::extract::{Path, State};
use bson::doc;
use chrono::{DateTime, Datelike, Months, TimeDelta, TimeZone, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::fields;
use super::path;
use super::range::{Window, day_start};
use super::read::read_failed;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Days a default `period=day` window covers (today and the 29 before).
pub const DEFAULT_DAYS: u32 = 30;
/// Months a default `period=month` window covers (this one and the 11 before).
pub const DEFAULT_MONTHS: u32 = 12;
/// Most periods one answer may span: ten years of days or of months.
pub const MAX_PERIODS: i64 = 3660;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    #[default]
    Day,
    Month,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CostQuery {
    /// RFC 3339 time or date; default: the start of the 30-day (or 12-month) window ending at `to`.
    from: Option<String>,
    /// RFC 3339 time or date (a date includes that day); default: now.
    to: Option<String>,
    /// `day` (default) or `month`: UTC calendar periods.
    #[param(inline)]
    period: Option<Period>,
}

/// Sums over some conversations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub conversations: i64,
    pub seconds: i64,
    pub minutes: f64,
    /// Credits charged (ElevenLabs' figure once reconciled).
    pub credits: f64,
    /// The credits in `currency`, at the projector's price.
    pub money: f64,
    /// `credits / minutes`; 0 when no time was spent, never NaN or infinite.
    pub cost_per_minute: f64,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        self.conversations = self.conversations.saturating_add(other.conversations);
        self.seconds = self.seconds.saturating_add(other.seconds);
        self.credits += other.credits;
        self.money += other.money;
        self.derive();
    }

    fn derive(&mut self) {
        self.minutes = self.seconds as f64 / 60.0;
        self.cost_per_minute = fields::cost_per_minute(self.credits, self.seconds);
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodCost {
    /// `2026-01-05` or `2026-01`.
    pub key: String,
    pub start: DateTime<Utc>,
    #[serde(flatten)]
    pub figures: Figures,
    /// Milliseconds per agent turn in the period.
    pub average_latency: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationCost {
    pub user_id: String,
    pub period: Period,
    /// The window asked for, `[from, to)`; periods are whole, each starting in
    /// `[from rounded down to its period, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub currency: String,
    pub totals: Figures,
    /// Oldest first; periods without conversations are left out.
    pub periods: Vec<PeriodCost>,
}

/// A user's conversation cost per day or month, with totals. Users see their own; finance and admin anyone's.
#[utoipa::path(get, path = "/api/users/{userId}/conversation-cost", tag = "money",
    params(("userId" = String, Path, description = "24-hex user id"), CostQuery),
    responses(
        (status = 200, body = ConversationCost),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not this caller's user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn conversation_cost(
    State(state): State<AppState>,
    principal: Principal,
    Path(user): Path<String>,
    ApiQuery(query): ApiQuery<CostQuery>,
) -> Result<Json<ConversationCost>, ApiError> {
    let user = principal.money_of(path::user(&user)?, "user")?;
    let period = query.period.unwrap_or_default();
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let to = window.to.unwrap_or_else(Utc::now);
    let from = window.from.unwrap_or_else(|| default_from(period, to));
    if from >= to {
        return Err(ApiError::BadRequest(format!(
            "from ({}) must be before to ({})",
            from.to_rfc3339(),
            to.to_rfc3339()
        )));
    }
    let first = period_start(period, from);
    if periods_between(period, first, to) > MAX_PERIODS {
        return Err(ApiError::BadRequest(format!(
            "the window spans more than {MAX_PERIODS} periods; ask for a shorter one or period=month"
        )));
    }
    let collection = match period {
        Period::Day => state.reads.user_usage_daily(),
        Period::Month => state.reads.user_usage_monthly(),
    };
    let filter = doc! {
        "userId": bson::oid::ObjectId::from_bytes(user.bytes()),
        "start": { "$gte": bson::DateTime::from_chrono(first), "$lt": bson::DateTime::from_chrono(to) },
    };
    let found: Vec<bson::Document> = collection
        .find(filter)
        .sort(doc! { "start": 1 })
        .await
        .map_err(read_failed)?
        .try_collect()
        .await
        .map_err(read_failed)?;
    let mut totals = Figures::default();
    let mut currency = None;
    let periods: Vec<PeriodCost> = found
        .iter()
        .map(|usage| {
            let line = period_cost(usage);
            totals.add(&line.figures);
            currency = currency.take().or_else(|| fields::text(usage, "currency"));
            line
        })
        .collect();
    Ok(Json(ConversationCost {
        user_id: user.to_string(),
        period,
        from,
        to,
        currency: currency.unwrap_or_else(|| "USD".to_owned()),
        totals,
        periods,
    }))
}

fn period_cost(usage: &bson::Document) -> PeriodCost {
    let mut figures = Figures {
        conversations: fields::int(usage, "conversations"),
        seconds: fields::int(usage, "seconds"),
        credits: fields::float(usage, "credits"),
        money: fields::float(usage, "money"),
        ..Figures::default()
    };
    figures.derive();
    PeriodCost {
        key: fields::text(usage, "key").unwrap_or_default(),
        start: fields::time(usage, "start").unwrap_or_default(),
        figures,
        average_latency: fields::float(usage, "averageLatency"),
    }
}

fn default_from(period: Period, to: DateTime<Utc>) -> DateTime<Utc> {
    // `to` is exclusive: the default window's last period is the one holding
    // the instant just before it.
    let last = to - TimeDelta::milliseconds(1);
    match period {
        Period::Day => day_start(last) - TimeDelta::days(i64::from(DEFAULT_DAYS - 1)),
        Period::Month => month_start(last)
            .checked_sub_months(Months::new(DEFAULT_MONTHS - 1))
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    }
}

fn period_start(period: Period, at: DateTime<Utc>) -> DateTime<Utc> {
    match period {
        Period::Day => day_start(at),
        Period::Month => month_start(at),
    }
}

fn month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(at.year(), at.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(at)
}

fn periods_between(period: Period, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    match period {
        Period::Day => (to - from).num_days(),
        Period::Month => {
            i64::from(to.year() - from.year()) * 12 + i64::from(to.month())
                - i64::from(from.month())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn default_windows_end_with_the_period_holding_to() {
        let to = at("2026-03-10T12:00:00Z");
        assert_eq!(default_from(Period::Day, to), at("2026-02-09T00:00:00Z"));
        assert_eq!(default_from(Period::Month, to), at("2025-04-01T00:00:00Z"));
        let midnight = at("2026-03-10T00:00:00Z");
        assert_eq!(
            default_from(Period::Day, midnight),
            at("2026-02-08T00:00:00Z")
        );
    }

    #[test]
    fn totals_sum_the_periods_and_cost_per_minute_stays_finite() {
        let mut totals = Figures::default();
        let idle = period_cost(&doc! { "conversations": 1_i32, "seconds": 0_i64, "credits": 0.0 });
        totals.add(&idle.figures);
        assert_eq!(idle.figures.cost_per_minute, 0.0);
        let busy = period_cost(&doc! {
            "key": "2026-01-05", "conversations": 2_i32, "seconds": 90_i64,
            "credits": 300.0, "money": 0.066,
        });
        totals.add(&busy.figures);
        assert_eq!(busy.figures.cost_per_minute, 200.0);
        assert_eq!(totals.conversations, 3);
        assert_eq!(totals.minutes, 1.5);
        assert_eq!(totals.cost_per_minute, 200.0);
    }

    #[test]
    fn periods_are_counted_by_calendar() {
        assert_eq!(
            periods_between(
                Period::Month,
                at("2025-11-01T00:00:00Z"),
                at("2026-02-01T00:00:00Z")
            ),
            3
        );
        assert_eq!(
            periods_between(
                Period::Day,
                at("2026-01-01T00:00:00Z"),
                at("2026-01-31T00:00:00Z")
            ),
            30
        );
    }
}
