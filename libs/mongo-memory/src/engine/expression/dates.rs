//! Date expressions, in UTC only: `$dateToString` and the date parts
//! (`$year`, `$month`, `$dayOfMonth`, `$hour`, `$minute`, `$second`,
//! `$millisecond`, `$dayOfWeek`, `$dayOfYear`, `$week`). A `timezone` other
//! than UTC is refused.

use bson::{Bson, Document};

use crate::engine::error::EngineError;
use crate::engine::filter::type_name;

/// MongoDB's default `$dateToString` format.
const DEFAULT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S.%LZ";

/// `$dateToString: {date, format?, timezone?, onNull?}` (the argument
/// already evaluated to a document).
pub fn to_string(spec: &Option<Bson>) -> Result<Option<Bson>, EngineError> {
    let Some(Bson::Document(spec)) = spec else {
        return Err(EngineError::location(
            18629,
            "$dateToString only supports an object as its argument",
        ));
    };
    if let Some(key) = spec
        .keys()
        .find(|k| !matches!(k.as_str(), "date" | "format" | "timezone" | "onNull"))
    {
        return Err(EngineError::location(
            18534,
            format!("Unrecognized argument to $dateToString: {key}"),
        ));
    }
    check_timezone(spec)?;
    let date = match spec.get("date") {
        None | Some(Bson::Null | Bson::Undefined) => {
            return Ok(Some(spec.get("onNull").cloned().unwrap_or(Bson::Null)));
        }
        Some(Bson::DateTime(d)) => *d,
        Some(other) => return Err(not_a_date("$dateToString", other)),
    };
    let format = match spec.get("format") {
        None => DEFAULT_FORMAT,
        Some(Bson::String(f)) => f.as_str(),
        Some(Bson::Null) => return Ok(Some(Bson::Null)),
        Some(other) => {
            return Err(EngineError::location(
                18533,
                format!("$dateToString requires that 'format' be a string, found: {other}"),
            ));
        }
    };
    Ok(Some(Bson::String(render(date, format)?)))
}

/// MongoDB's format specifiers rendered through chrono's.
fn render(date: bson::DateTime, format: &str) -> Result<String, EngineError> {
    let utc = date.to_chrono();
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars
            .next()
            .ok_or_else(|| EngineError::location(18535, "Unmatched '%' at end of format string"))?;
        let piece = match spec {
            'Y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'j' | 'u' | 'U' | 'V' | 'G' | 'z' => {
                utc.format(&format!("%{spec}")).to_string()
            }
            'L' => utc.format("%3f").to_string(),
            'w' => day_of_week(date).to_string(),
            '%' => "%".to_owned(),
            other => {
                return Err(EngineError::location(
                    18536,
                    format!("Invalid format character '%{other}' in format string"),
                ));
            }
        };
        out.push_str(&piece);
    }
    Ok(out)
}

/// One date part (`$year` …) of a date, or of `{date, timezone}`.
pub fn part(name: &str, arg: &Option<Bson>) -> Result<Option<Bson>, EngineError> {
    let value = match arg {
        Some(Bson::Document(spec)) => {
            check_timezone(spec)?;
            spec.get("date").cloned()
        }
        other => other.clone(),
    };
    let date = match value {
        None | Some(Bson::Null | Bson::Undefined) => return Ok(Some(Bson::Null)),
        Some(Bson::DateTime(d)) => d,
        Some(other) => return Err(not_a_date(name, &other)),
    };
    let field = |spec: &str| -> i32 {
        date.to_chrono()
            .format(spec)
            .to_string()
            .parse()
            .unwrap_or(0)
    };
    let value = match name {
        "$year" => field("%Y"),
        "$month" => field("%m"),
        "$dayOfMonth" => field("%d"),
        "$hour" => field("%H"),
        "$minute" => field("%M"),
        "$second" => field("%S"),
        "$millisecond" => field("%3f"),
        "$dayOfYear" => field("%j"),
        "$week" => field("%U"),
        _ => day_of_week(date),
    };
    Ok(Some(Bson::Int32(value)))
}

/// MongoDB's day of week: 1 (Sunday) to 7 (Saturday).
fn day_of_week(date: bson::DateTime) -> i32 {
    date.to_chrono()
        .format("%w")
        .to_string()
        .parse::<i32>()
        .map_or(1, |d| d + 1)
}

fn check_timezone(spec: &Document) -> Result<(), EngineError> {
    match spec.get("timezone") {
        None | Some(Bson::Null) => Ok(()),
        Some(Bson::String(tz))
            if matches!(tz.as_str(), "UTC" | "GMT" | "Z" | "+00:00" | "+0000") =>
        {
            Ok(())
        }
        Some(other) => Err(EngineError::unsupported(&format!("timezone {other}"))),
    }
}

fn not_a_date(name: &str, value: &Bson) -> EngineError {
    EngineError::location(
        16006,
        format!(
            "can't convert from BSON type {} to Date (in {name})",
            type_name(value)
        ),
    )
}
