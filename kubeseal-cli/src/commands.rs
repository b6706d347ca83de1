//! The operations behind the flags, in Go kubeseal's dispatch order (`runCLI`).

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use sealed_secrets::documents::{self, Format};
use sealed_secrets::explain::explain;
use sealed_secrets::seal::{SealOptions, merge_into, seal_raw, seal_secret};
use sealed_secrets::secret::InputSecret;
use sealed_secrets::unseal::{UnsealOptions, unseal};
use sealed_secrets::{SealedSecret, key_secret};
use sealed_secrets_core::cert::{CertificateParams, self_signed};
use sealed_secrets_core::{Certificate, KeyRing, PrivateKey, Scope};
use time::OffsetDateTime;

use crate::cli::{Flags, KeygenArgs};
use crate::io::{self, Output};
use crate::kubeconfig;

fn rng() -> rand_core::UnwrapErr<rand_core::OsRng> {
    rand_core::UnwrapErr(rand_core::OsRng)
}

/// Runs Go kubeseal's flag-driven modes.
pub fn run(flags: &Flags) -> Result<()> {
    if !flags.from_file.is_empty() && !flags.raw {
        bail!("--from-file requires --raw");
    }
    let mut format: Format = flags.format.parse()?;
    let out_path = flags.sealed_secret_file.as_deref();
    if let Some(p) = out_path
        && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
    {
        format = Format::Yaml;
    }
    let output = out_path.map_or(Output::Stdout, Output::File);

    if flags.recovery_unseal {
        return recovery_unseal(flags, format, &output);
    }
    if flags.validate {
        return validate(flags);
    }
    if flags.re_encrypt {
        bail!(not_yet("--re-encrypt"));
    }
    let cert_text = read_cert(flags)?;
    if flags.fetch_cert {
        return output.write(&cert_text);
    }
    let cert = Certificate::from_pem(&cert_text)?;
    let now = OffsetDateTime::now_utc();
    if cert.is_expired_at(now) {
        // Upstream refuses; the controller never checks expiry, so sealing still
        // works. Warn instead, with what to do.
        let d = cert.not_after().date();
        eprintln!(
            "warning: the certificate expired on {} {}, {}; the controller may have a newer key: fetch its current certificate",
            d.month(),
            d.day(),
            d.year()
        );
    }

    if let Some(target) = &flags.merge_into {
        return merge(flags, &cert, target);
    }
    if flags.raw {
        return raw(flags, &cert, &output);
    }
    seal(flags, &cert, format, &output)
}

fn not_yet(what: &str) -> String {
    format!(
        "{what} needs cluster access, which this kubeseal does not have yet; use --cert FILE (and --recovery-private-key for offline --validate)"
    )
}

fn read_cert(flags: &Flags) -> Result<Vec<u8>> {
    let Some(cert) = flags.cert.as_deref() else {
        bail!(not_yet("fetching the certificate from the controller"));
    };
    if cert.starts_with("http://") || cert.starts_with("https://") {
        bail!(not_yet("a certificate URL"));
    }
    let path = cert.strip_prefix("file://").unwrap_or(cert);
    io::read_file(Path::new(path))
}

fn read_input(flags: &Flags) -> Result<Vec<u8>> {
    match &flags.secret_file {
        Some(p) => io::read_file(p).context("Could not read file specified with --secret-file"),
        None => io::read_stdin(),
    }
}

fn namespace(flags: &Flags) -> (String, bool) {
    match &flags.namespace {
        Some(ns) if !ns.is_empty() => (strip_ns_prefix(ns).to_owned(), true),
        _ => (
            kubeconfig::context_namespace(flags.kubeconfig.as_deref(), flags.context.as_deref())
                .unwrap_or_else(|| "default".to_owned()),
            false,
        ),
    }
}

/// kubectl accepts `ns/x`, `namespace/x` and `namespaces/x` for `-n x`.
fn strip_ns_prefix(ns: &str) -> &str {
    ["ns/", "namespace/", "namespaces/"]
        .iter()
        .find_map(|p| ns.strip_prefix(p))
        .unwrap_or(ns)
}

fn seal_options(flags: &Flags) -> Result<SealOptions> {
    let (default_namespace, namespace_is_explicit) = namespace(flags);
    Ok(SealOptions {
        scope: flags
            .scope
            .as_deref()
            .map(str::parse::<Scope>)
            .transpose()?,
        default_namespace,
        namespace_is_explicit,
        allow_empty_data: flags.allow_empty_data,
        ..SealOptions::default()
    })
}

fn input_secrets(bytes: &[u8]) -> Result<Vec<InputSecret>> {
    let docs = documents::parse(bytes)?;
    if docs.is_empty() {
        bail!("no secrets found. Ensure the input is valid and UTF-8 encoded");
    }
    docs.iter()
        .map(|d| Ok(InputSecret::from_value(d)?))
        .collect()
}

fn seal(flags: &Flags, cert: &Certificate, format: Format, output: &Output) -> Result<()> {
    let options = seal_options(flags)?;
    let mut out = String::new();
    for secret in input_secrets(&read_input(flags)?)? {
        let sealed = seal_secret(&mut rng(), cert.public_key(), secret, &options)?;
        out.push_str(&documents::render(&sealed, format)?);
    }
    output.write(out.as_bytes())
}

fn raw(flags: &Flags, cert: &Certificate, output: &Output) -> Result<()> {
    let value = match flags.from_file.as_slice() {
        [] => io::read_stdin()?,
        [one] => {
            let path = one.split_once('=').map_or(one.as_str(), |(_, p)| p);
            zeroize::Zeroizing::new(io::read_file(Path::new(path))?).to_vec()
        }
        _ => bail!("must provide only one --from-file when encrypting a single item with --raw"),
    };
    let value = zeroize::Zeroizing::new(value);
    let scope: Scope = flags.scope.as_deref().unwrap_or("").parse()?;
    let (ns, _) = match &flags.namespace {
        Some(ns) => (strip_ns_prefix(ns).to_owned(), true),
        None => namespace(flags),
    };
    let sealed = seal_raw(
        &mut rng(),
        cert.public_key(),
        scope,
        &ns,
        &flags.name,
        &value,
    )?;
    output.write(sealed.as_bytes())
}

fn merge(flags: &Flags, cert: &Certificate, target: &Path) -> Result<()> {
    let text = io::read_file(target)?;
    let mut existing = one_sealed_secret(&text)
        .with_context(|| format!("cannot merge into {}", target.display()))?;
    let mut options = seal_options(flags)?;
    options.name_override = existing.metadata.name.clone();
    options.namespace_override = existing.metadata.namespace.clone();
    let secrets = input_secrets(&read_input(flags)?)?;
    for secret in secrets {
        let sealed = seal_secret(&mut rng(), cert.public_key(), secret, &options)?;
        merge_into(&mut existing, sealed);
    }
    // Keep the file's own format unless -o was given explicitly.
    let format = if flags.format_explicit {
        flags.format.parse()?
    } else {
        documents::detect(&String::from_utf8_lossy(&text))
    };
    io::write_atomic(
        target,
        documents::render(&existing, format)?.as_bytes(),
        false,
    )
}

fn one_sealed_secret(bytes: &[u8]) -> Result<SealedSecret> {
    let docs = documents::parse(bytes)?;
    let [doc] = docs.as_slice() else {
        bail!(
            "expected exactly one SealedSecret, found {} documents",
            docs.len()
        );
    };
    sealed_secret_from(doc)
}

fn sealed_secret_from(doc: &serde_json::Value) -> Result<SealedSecret> {
    match doc.get("kind").and_then(|k| k.as_str()) {
        Some("SealedSecret") => {}
        Some(other) => bail!("input is a {other}, not a SealedSecret"),
        None => bail!("input has no kind: expected kind: SealedSecret"),
    }
    serde_json::from_value(doc.clone()).map_err(|e| anyhow!("invalid SealedSecret: {e}"))
}

fn key_ring(flags: &Flags) -> Result<KeyRing> {
    let mut ring = KeyRing::new();
    for path in &flags.recovery_private_key {
        let mut bytes = zeroize::Zeroizing::new(io::read_file(path)?);
        if sealed_secrets_sops::backup::is_age_file(&bytes) {
            bytes = crate::keys::recovery_keys_from_backup(&bytes, &flags.age_identity)
                .with_context(|| format!("cannot read key backup {}", path.display()))?;
        }
        for key in key_secret::private_keys(&bytes)
            .with_context(|| format!("cannot read private key {}", path.display()))?
        {
            ring.insert(key);
        }
    }
    Ok(ring)
}

fn with_explanation(err: anyhow::Error, ss: &SealedSecret, keys: &KeyRing) -> anyhow::Error {
    match explain(ss, keys) {
        Some(why) => anyhow!("{err}\nhint: {why}"),
        None => err,
    }
}

fn recovery_unseal(flags: &Flags, format: Format, output: &Output) -> Result<()> {
    let keys = key_ring(flags)?;
    let ss = one_sealed_secret(&read_input(flags)?)?;
    let secret = unseal(&ss, &keys, UnsealOptions::default())
        .map_err(|e| with_explanation(e.into(), &ss, &keys))?;
    let text = zeroize::Zeroizing::new(documents::render(&secret, format)?);
    output.write(text.as_bytes())
}

fn validate(flags: &Flags) -> Result<()> {
    if flags.recovery_private_key.is_empty() {
        bail!(not_yet("--validate without --recovery-private-key"));
    }
    let keys = key_ring(flags)?;
    let docs = documents::parse(&read_input(flags)?)?;
    if docs.is_empty() {
        bail!("unable to decrypt sealed secret: no SealedSecret in the input");
    }
    for doc in &docs {
        let ss = sealed_secret_from(doc)?;
        if let Err(e) = unseal(&ss, &keys, UnsealOptions::default()) {
            let name = ss.metadata.name.clone().unwrap_or_default();
            return Err(with_explanation(
                anyhow!("unable to decrypt sealed secret: {name}: {e}"),
                &ss,
                &keys,
            ));
        }
    }
    Ok(())
}

/// `kubeseal keygen`.
pub fn keygen(args: &KeygenArgs) -> Result<()> {
    let ttl = parse_go_duration(&args.key_ttl).ok_or_else(|| {
        anyhow!(
            "invalid --key-ttl {:?}: use a Go duration such as 87600h",
            args.key_ttl
        )
    })?;
    let key = PrivateKey::generate(args.key_size)?;
    let params = CertificateParams {
        not_before: OffsetDateTime::now_utc(),
        validity: ttl,
        common_name: args.my_cn.clone(),
    };
    let cert = self_signed(&mut rng(), &key, &params)?;
    io::write_atomic(&args.key_out, key.to_pkcs1_pem()?.as_bytes(), true)?;
    io::write_atomic(&args.cert_out, cert.to_pem().as_bytes(), false)?;
    eprintln!(
        "wrote {} and {} (key {})",
        args.key_out.display(),
        args.cert_out.display(),
        key.fingerprint()
    );
    Ok(())
}

/// Go's `time.ParseDuration` for the units a key TTL uses: h, m, s (combinable).
fn parse_go_duration(text: &str) -> Option<time::Duration> {
    let mut total = time::Duration::ZERO;
    let mut number = String::new();
    let mut any = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        total += match c {
            'h' => time::Duration::hours(n),
            'm' => time::Duration::minutes(n),
            's' => time::Duration::seconds(n),
            _ => return None,
        };
        any = true;
    }
    (number.is_empty() && any && total.is_positive()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(
            parse_go_duration("87600h"),
            Some(time::Duration::hours(87_600))
        );
        assert_eq!(
            parse_go_duration("1h30m"),
            Some(time::Duration::minutes(90))
        );
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("0h"), None);
        assert_eq!(parse_go_duration("5d"), None);
    }

    #[test]
    fn namespace_prefixes_are_stripped() {
        assert_eq!(strip_ns_prefix("ns/a"), "a");
        assert_eq!(strip_ns_prefix("namespaces/a"), "a");
        assert_eq!(strip_ns_prefix("a"), "a");
    }
}
