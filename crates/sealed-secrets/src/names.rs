//! Kubernetes object-name rules, exactly as the API server applies them
//! (`k8s.io/apimachinery/pkg/util/validation`), so that we refuse what it would
//! refuse and nothing more.

/// Longest DNS-1123 label (a namespace name).
pub const DNS1123_LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain (a Secret or Lease name).
pub const DNS1123_SUBDOMAIN_MAX: usize = 253;

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` without a length limit: one dot-separated part.
fn is_label_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

/// A DNS-1123 label, what Kubernetes requires of a namespace: at most 63 characters
/// of `[a-z0-9-]`, starting and ending with a letter or digit.
pub fn is_dns1123_label(text: &str) -> bool {
    text.len() <= DNS1123_LABEL_MAX && is_label_text(text)
}

/// A DNS-1123 subdomain, what Kubernetes requires of Secret and Lease names:
/// dot-separated parts like labels, at most 253 characters in all. Unlike DNS
/// itself, Kubernetes sets no 63-character limit on each part, so neither do we.
pub fn is_dns1123_subdomain(text: &str) -> bool {
    text.len() <= DNS1123_SUBDOMAIN_MAX && text.split('.').all(is_label_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_follow_kubernetes() {
        let long_part = "a".repeat(70);
        let longest = "a".repeat(253);
        let long_parts = vec!["a".repeat(63); 3].join(".");
        for ok in [
            "db",
            "a",
            "0",
            "db-1",
            "app.example.com",
            "1.2.3",
            &long_part,
            &longest,
            &long_parts,
        ] {
            assert!(is_dns1123_subdomain(ok), "{ok}");
        }
        let too_long = "a".repeat(254);
        let too_long_parts = vec!["a".repeat(63); 4].join("."); // 255
        for bad in [
            "",
            ".",
            "Db",
            "db_1",
            "-db",
            "db-",
            "a..b",
            ".db",
            "db.",
            "a.-b",
            "a/b",
            "db\n",
            "ü",
            &too_long,
            &too_long_parts,
        ] {
            assert!(!is_dns1123_subdomain(bad), "{bad:?}");
        }
    }

    #[test]
    fn labels_follow_kubernetes() {
        let longest = "a".repeat(63);
        for ok in ["kube-system", "a", "0", "a-0", &longest] {
            assert!(is_dns1123_label(ok), "{ok}");
        }
        let too_long = "a".repeat(64);
        for bad in ["", "app.prod", "App", "-a", "a-", "a_b", &too_long] {
            assert!(!is_dns1123_label(bad), "{bad:?}");
        }
    }
}
