//! Reading samples out of Prometheus / OpenMetrics text.

/// One scrape of `/metrics`.
#[derive(Debug, Clone)]
pub struct Metrics {
    text: String,
}

impl Metrics {
    /// Wraps the text of a scrape.
    pub fn new(text: String) -> Metrics {
        Metrics { text }
    }

    /// The raw text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The sum of every sample of `name` whose labels include all of `labels`;
    /// `None` when there is no such sample.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut total = None;
        for line in self.text.lines() {
            let Some(sample) = parse_sample(line) else {
                continue;
            };
            if sample.name != name {
                continue;
            }
            if labels
                .iter()
                .all(|(k, v)| sample.labels.iter().any(|(sk, sv)| sk == k && sv == v))
            {
                *total.get_or_insert(0.0) += sample.value;
            }
        }
        total
    }

    /// Every sample of `name` as (labels, value).
    pub fn samples(&self, name: &str) -> Vec<(Vec<(String, String)>, f64)> {
        self.text
            .lines()
            .filter_map(parse_sample)
            .filter(|s| s.name == name)
            .map(|s| (s.labels, s.value))
            .collect()
    }
}

struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// `name{k="v",...} value [timestamp]`; comments and malformed lines give `None`.
fn parse_sample(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        loop {
            let (i, c) = chars.next()?;
            match c {
                '}' => {
                    rest = &inner[i + 1..];
                    break;
                }
                ',' | ' ' => {}
                '=' => {
                    let (_, quote) = chars.next()?;
                    if quote != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        let (_, c) = chars.next()?;
                        match c {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.push((std::mem::take(&mut key), value));
                }
                other => key.push(other),
            }
        }
    }
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP sealed_secrets_controller_rsa_decryptions RSA private-key operations.
# TYPE sealed_secrets_controller_rsa_decryptions counter
sealed_secrets_controller_rsa_decryptions_total 3
sealed_secrets_controller_unseal_errors_total{reason="unseal",namespace="a"} 2
sealed_secrets_controller_unseal_errors_total{reason="fetch",namespace="a"} 1
sealed_secrets_controller_unseal_errors_total{reason="unseal",namespace="b\"q"} 4.5 1700000000
# EOF
"#;

    #[test]
    fn sums_matching_samples() {
        let m = Metrics::new(TEXT.to_owned());
        assert_eq!(
            m.sum("sealed_secrets_controller_rsa_decryptions_total", &[]),
            Some(3.0)
        );
        assert_eq!(
            m.sum("sealed_secrets_controller_unseal_errors_total", &[]),
            Some(7.5)
        );
        assert_eq!(
            m.sum(
                "sealed_secrets_controller_unseal_errors_total",
                &[("reason", "unseal")]
            ),
            Some(6.5)
        );
        assert_eq!(
            m.sum(
                "sealed_secrets_controller_unseal_errors_total",
                &[("namespace", "b\"q")]
            ),
            Some(4.5)
        );
        assert_eq!(
            m.sum("sealed_secrets_controller_rsa_decryptions", &[]),
            None
        );
        assert_eq!(
            m.samples("sealed_secrets_controller_unseal_errors_total")
                .len(),
            3
        );
    }
}
