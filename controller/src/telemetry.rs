//! Logging as upstream's slog setup does it: slog's text or JSON lines (`time`,
//! `level`, `msg`, then the fields), INFO and lower to stdout and WARN and higher to
//! stderr (`--log-info-stdout`), or everything to stderr. Log shippers and queries
//! written for the Go controller's lines keep working.

use std::fmt::{self, Write as _};

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// slog's TextHandler: `time=… level=INFO msg="…" key=value`.
    Text,
    /// slog's JSONHandler: `{"time":"…","level":"INFO","msg":"…","key":"value"}`.
    Json,
}

impl LogFormat {
    /// Upstream's reading of `--log-format`: `json` is JSON, anything else text; the
    /// flag is `false` for a value other than `text` or `json` (worth a warning).
    pub fn parse(name: &str) -> (LogFormat, bool) {
        match name {
            "json" => (LogFormat::Json, true),
            "text" => (LogFormat::Text, true),
            _ => (LogFormat::Text, false),
        }
    }
}

/// Installs the global subscriber.
pub fn init(level: Level, format: LogFormat, info_to_stdout: bool) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        // Span fields are kept as JSON, so each line can carry them as its own fields.
        .fmt_fields(JsonFields::new())
        .event_format(Slog { format });
    // Warnings and errors always go to stderr.
    let stderr = std::io::stderr.with_max_level(Level::WARN);
    if info_to_stdout {
        builder.with_writer(stderr.or_else(std::io::stdout)).init();
    } else {
        builder.with_writer(std::io::stderr).init();
    }
}

/// Formats events as slog lines.
struct Slog {
    format: LogFormat,
}

impl<S, N> FormatEvent<S, N> for Slog
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut record = Record::default();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(serde_json::Value::Object(map)) =
                    serde_json::from_str::<Value>(&fields.fields)
                {
                    record.fields.extend(map);
                }
            }
        }
        event.record(&mut record);
        let now = time::OffsetDateTime::now_utc();
        let line = render(self.format, now, *event.metadata().level(), &record);
        writer.write_str(&line)
    }
}

/// One event's message and fields, in order.
#[derive(Debug, Default)]
struct Record {
    message: String,
    fields: Vec<(String, Value)>,
}

impl Record {
    fn put(&mut self, field: &Field, value: Value) {
        self.fields.push((field.name().to_owned(), value));
    }
}

impl Visit for Record {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.message);
        } else {
            self.put(field, Value::String(value.to_owned()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.put(field, Value::String(format!("{value:?}")));
        }
    }
}

/// slog's level names (tracing's TRACE is below slog's DEBUG: `DEBUG-4`).
fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "DEBUG-4",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        Level::ERROR => "ERROR",
    }
}

/// One line, with its newline.
fn render(format: LogFormat, now: time::OffsetDateTime, level: Level, record: &Record) -> String {
    let mut line = String::with_capacity(128);
    match format {
        LogFormat::Json => {
            // Go's RFC3339Nano: nanoseconds without trailing zeros.
            let time = go_time(now, 9);
            let json = |v: &Value| serde_json::to_string(v).unwrap_or_else(|_| "null".into());
            let _ = write!(
                line,
                "{{\"time\":{},\"level\":\"{}\",\"msg\":{}",
                json(&Value::String(time)),
                level_name(level),
                json(&Value::String(record.message.clone()))
            );
            for (key, value) in &record.fields {
                let _ = write!(
                    line,
                    ",{}:{}",
                    json(&Value::String(key.clone())),
                    json(value)
                );
            }
            line.push('}');
        }
        LogFormat::Text => {
            let _ = write!(
                line,
                "time={} level={} msg={}",
                go_time(now, 3),
                level_name(level),
                text_value(&record.message)
            );
            for (key, value) in &record.fields {
                let value = match value {
                    Value::String(s) => text_value(s),
                    other => other.to_string(),
                };
                let _ = write!(line, " {}={value}", text_value(key));
            }
        }
    }
    line.push('\n');
    line
}

/// RFC 3339 in UTC with up to `digits` fractional digits, trailing zeros dropped (as
/// Go formats `.999999999` and slog's text handler `.000`).
fn go_time(t: time::OffsetDateTime, digits: usize) -> String {
    let date = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let nanos = format!("{:09}", t.nanosecond());
    let mut fraction = nanos[..digits.min(9)].to_owned();
    if digits == 9 {
        while fraction.ends_with('0') {
            fraction.pop();
        }
    }
    if fraction.is_empty() {
        format!("{date}Z")
    } else {
        format!("{date}.{fraction}Z")
    }
}

/// A value as slog's text handler writes it: bare, or Go-quoted when it is empty or
/// holds spaces, `=`, quotes or control characters.
fn text_value(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c == '=' || c == '"' || c.is_control());
    if needs_quotes {
        // JSON string escaping matches Go's strconv.Quote for these characters.
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(message: &str, fields: &[(&str, Value)]) -> Record {
        Record {
            message: message.to_owned(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    }

    fn at() -> time::OffsetDateTime {
        time::macros::datetime!(2026-12-03 12:59:58.120 UTC)
    }

    #[test]
    fn json_lines_use_slogs_field_names() {
        let line = render(
            LogFormat::Json,
            at(),
            Level::WARN,
            &record(
                "cannot publish event",
                &[("namespace", "app".into()), ("failures", 3.into())],
            ),
        );
        assert_eq!(
            line,
            "{\"time\":\"2026-12-03T12:59:58.12Z\",\"level\":\"WARN\",\"msg\":\"cannot publish event\",\"namespace\":\"app\",\"failures\":3}\n"
        );
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["msg"], "cannot publish event");
    }

    #[test]
    fn text_lines_are_slogs_key_value_pairs() {
        let line = render(
            LogFormat::Text,
            at(),
            Level::INFO,
            &record(
                "controller started",
                &[("namespaces", "all namespaces".into()), ("ok", true.into())],
            ),
        );
        assert_eq!(
            line,
            "time=2026-12-03T12:59:58.120Z level=INFO msg=\"controller started\" namespaces=\"all namespaces\" ok=true\n"
        );
    }

    #[test]
    fn values_are_quoted_only_when_needed() {
        assert_eq!(text_value("app"), "app");
        assert_eq!(text_value(""), "\"\"");
        assert_eq!(text_value("a=b"), "\"a=b\"");
        assert_eq!(text_value("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
    }

    #[test]
    fn times_are_go_formatted() {
        assert_eq!(
            go_time(time::macros::datetime!(2026-01-02 03:04:05 UTC), 9),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(
            go_time(time::macros::datetime!(2026-01-02 03:04:05 UTC), 3),
            "2026-01-02T03:04:05.000Z"
        );
    }

    #[test]
    fn unknown_formats_fall_back_to_text_as_upstream_does() {
        assert_eq!(LogFormat::parse("json"), (LogFormat::Json, true));
        assert_eq!(LogFormat::parse("text"), (LogFormat::Text, true));
        assert_eq!(LogFormat::parse("logfmt"), (LogFormat::Text, false));
    }

    #[test]
    fn events_and_spans_become_fields_through_a_real_subscriber() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let out = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(Slog {
                format: LogFormat::Json,
            })
            .with_writer(move || out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("reconcile", namespace = "app", name = "db");
            let _entered = span.enter();
            tracing::warn!(failures = 2, error = %"boom", "Error updating, will retry");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["msg"], "Error updating, will retry");
        assert_eq!(line["namespace"], "app");
        assert_eq!(line["name"], "db");
        assert_eq!(line["failures"], 2);
        assert_eq!(line["error"], "boom");
        assert!(line["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
