//! The operations behind the flags, in Go kubeseal's dispatch order (`runCLI`).

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use sealed_secrets::documents::{self, Format};
use sealed_secrets::explain::explain;
use sealed_secrets::go_duration;
use sealed_secrets::seal::{SealOptions, merge_into, seal_raw, seal_secret};
use sealed_secrets::secret::InputSecret;
use sealed_secrets::unseal::{UnsealOptions, unseal};
use sealed_secrets::{SealedSecret, key_secret};
use sealed_secrets_core::cert::{CertificateParams, self_signed};
use sealed_secrets_core::{Certificate, KeyRing, PrivateKey, Scope};
use time::OffsetDateTime;

use crate::cli::{ClusterFlags, Flags, KeygenArgs};
use crate::cluster::{self, Controller, Verdict};
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
    // Upstream #405: `--re-encrypt -f FILE` without `-w` rewrites FILE in place.
    let in_place = flags.re_encrypt && out_path.is_none() && flags.secret_file.is_some();
    let out_path = out_path.or(if in_place {
        flags.secret_file.as_deref()
    } else {
        None
    });
    let output = out_path.map_or(Output::Stdout, Output::File);

    if flags.recovery_unseal {
        return recovery_unseal(flags, format, &output);
    }
    if flags.validate {
        return validate(flags);
    }
    if flags.re_encrypt {
        return re_encrypt(flags, format, in_place, &output);
    }
    if flags.cert.len() > 1 {
        return seal_for_each_cert(flags, format);
    }
    let cert_text = read_cert(flags)?;
    if flags.fetch_cert {
        return output.write(&cert_text);
    }
    let cert = parse_cert(&cert_text)?;

    if let Some(target) = &flags.merge_into {
        return merge(flags, &cert, target);
    }
    if flags.raw {
        return raw(flags, &cert, &output);
    }
    seal(flags, &cert, format, &output)
}

/// Parses a certificate; an expired one only gets a warning.
fn parse_cert(text: &[u8]) -> Result<Certificate> {
    let cert = Certificate::from_pem(text).context("cannot read the sealing certificate")?;
    if cert.is_expired_at(OffsetDateTime::now_utc()) {
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
    Ok(cert)
}

/// Several `--cert`: the input sealed once per certificate (one key per cluster).
/// On stdout the outputs follow each other; with `-w out.yaml` each goes to
/// `out-<cert file stem>.yaml`.
fn seal_for_each_cert(flags: &Flags, format: Format) -> Result<()> {
    if flags.fetch_cert || flags.merge_into.is_some() || flags.raw {
        bail!(
            "several --cert work only for plain sealing (one output per certificate); not with --fetch-cert, --merge-into or --raw"
        );
    }
    let input = read_input(flags)?;
    let options = seal_options(flags)?;
    let secrets = input_secrets(&input)?;
    let mut outputs = Vec::new();
    for source in &flags.cert {
        let cert = parse_cert(&read_cert_from(Some(source), &flags.cluster)?)
            .with_context(|| format!("--cert {source}"))?;
        let mut out = String::new();
        for secret in secrets.iter().cloned() {
            let sealed = seal_secret(&mut rng(), cert.public_key(), secret, &options)?;
            out.push_str(&documents::render(&sealed, format)?);
        }
        outputs.push((source, out));
    }
    let Some(path) = flags.sealed_secret_file.as_deref() else {
        let all: String = outputs.into_iter().map(|(_, o)| o).collect();
        return Output::Stdout.write(all.as_bytes());
    };
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("sealed");
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let mut names = std::collections::BTreeSet::new();
    for (i, (source, out)) in outputs.into_iter().enumerate() {
        let cert_stem = Path::new(source.rsplit('/').next().unwrap_or(source))
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("cert")
            .to_owned();
        let mut name = format!("{stem}-{cert_stem}{ext}");
        if !names.insert(name.clone()) {
            name = format!("{stem}-{cert_stem}-{}{ext}", i + 1);
            names.insert(name.clone());
        }
        let target = path.with_file_name(name);
        io::write_atomic(&target, out.as_bytes(), false)?;
        eprintln!("wrote {}", target.display());
    }
    Ok(())
}

fn read_cert(flags: &Flags) -> Result<Vec<u8>> {
    read_cert_from(flags.first_cert(), &flags.cluster)
}

/// The certificate from `--cert` (a file, `file://`, or `http(s)://` URL), else from
/// the controller through the API server.
pub fn read_cert_from(cert: Option<&str>, cluster: &ClusterFlags) -> Result<Vec<u8>> {
    let Some(cert) = cert else {
        return Ok(Controller::connect(cluster)?.cert_pem()?);
    };
    if cert.starts_with("http://") || cert.starts_with("https://") {
        return Ok(cluster::fetch_url(cert)?);
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
            // None: empty, and a Secret without a namespace is refused (as Go's).
            kubeconfig::default_namespace(
                flags.cluster.kubeconfig.as_deref(),
                flags.cluster.context.as_deref(),
            )
            .unwrap_or_default(),
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
        scope: flags.scope,
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
        warn_names(
            sealed.metadata.name.as_deref().unwrap_or_default(),
            sealed.metadata.namespace.as_deref().unwrap_or_default(),
        );
        out.push_str(&documents::render(&sealed, format)?);
    }
    output.write(out.as_bytes())
}

/// A name the API server will refuse is sealed anyway, as Go kubeseal does (its
/// integration suite seals `testSecret`); the warning says it will not apply as is.
fn warn_names(name: &str, namespace: &str) {
    if let Err(e) = sealed_secrets::seal::check_names(name, namespace) {
        eprintln!("warning: {e}; the API server will refuse the SealedSecret under that name");
    }
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
    let scope = flags.scope.unwrap_or(Scope::Strict);
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
    warn_names(&flags.name, &ns);
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
    match output {
        // Plaintext: only the owner may read the file (mode 0600), as key files.
        Output::File(path) => io::write_atomic(path, text.as_bytes(), true),
        Output::Stdout => output.write(text.as_bytes()),
    }
}

fn validate(flags: &Flags) -> Result<()> {
    let docs = documents::parse(&read_input(flags)?)
        .map_err(|e| anyhow!("unable to decrypt sealed secret: {e}"))?;
    if docs.is_empty() {
        bail!("unable to decrypt sealed secret: no SealedSecret in the input");
    }
    let sealed = docs
        .iter()
        .map(sealed_secret_from)
        .collect::<Result<Vec<_>>>()?;
    if flags.recovery_private_key.is_empty() {
        // Upstream: online through the controller, ignoring --cert.
        let controller = Controller::connect(&flags.cluster)?;
        for ss in &sealed {
            let name = ss.metadata.name.clone().unwrap_or_default();
            let body = serde_json::to_vec(ss).context("cannot encode the SealedSecret")?;
            match controller
                .verify(&body)
                .map_err(|e| anyhow!("cannot validate sealed secret: {e}"))?
            {
                Verdict::Ok => {}
                Verdict::CannotDecrypt => bail!("unable to decrypt sealed secret: {name}"),
            }
        }
        return Ok(());
    }
    let keys = key_ring(flags)?;
    for ss in &sealed {
        if let Err(e) = unseal(ss, &keys, UnsealOptions::default()) {
            let name = ss.metadata.name.clone().unwrap_or_default();
            return Err(with_explanation(
                anyhow!("unable to decrypt sealed secret: {name}: {e}"),
                ss,
                &keys,
            ));
        }
    }
    Ok(())
}

/// `--re-encrypt`: through the controller's `/v1/rotate` (upstream), or offline
/// with `--recovery-private-key` and `--cert` (#842).
fn re_encrypt(flags: &Flags, format: Format, in_place: bool, output: &Output) -> Result<()> {
    let input = read_input(flags)?;
    let docs = documents::parse(&input)?;
    if docs.is_empty() {
        bail!("no SealedSecret in the input");
    }
    let sealed = docs
        .iter()
        .map(sealed_secret_from)
        .collect::<Result<Vec<_>>>()?;
    // In place, keep the file's own format unless -o was given explicitly.
    let format = if in_place && !flags.format_explicit {
        documents::detect(&String::from_utf8_lossy(&input))
    } else {
        format
    };
    let mut out = String::new();
    if flags.recovery_private_key.is_empty() {
        let controller = Controller::connect(&flags.cluster)?;
        let bodies = sealed
            .iter()
            .map(serde_json::to_vec)
            .collect::<Result<Vec<_>, _>>()
            .context("cannot encode the SealedSecret")?;
        for reply in controller.rotate_all(&bodies) {
            let reply = reply?;
            let mut ss: SealedSecret = serde_json::from_slice(&reply).map_err(|e| {
                anyhow!("cannot re-encrypt secret: bad reply from the controller: {e}")
            })?;
            ss.metadata.creation_timestamp = None;
            ss.metadata.deletion_timestamp = None;
            ss.metadata.generation = None;
            out.push_str(&documents::render(&ss, format)?);
        }
    } else {
        let Some(_) = flags.first_cert() else {
            bail!(
                "offline --re-encrypt with --recovery-private-key also needs --cert (the certificate of the key to re-seal with)"
            );
        };
        let cert = Certificate::from_pem(&read_cert(flags)?)
            .context("cannot read the sealing certificate")?;
        let keys = key_ring(flags)?;
        for ss in sealed {
            let name = ss.metadata.name.clone().unwrap_or_default();
            let resealed = sealed_secrets::rotate::re_encrypt(
                &mut rng(),
                &ss,
                &keys,
                cert.public_key(),
                &mut sealed_secrets::unseal::UnsealCost::default(),
            )
            .map_err(|e| anyhow!("unable to rotate secret {name}: {e}"))?;
            out.push_str(&documents::render(&resealed, format)?);
        }
    }
    output.write(out.as_bytes())
}

/// `kubeseal keygen`.
pub fn keygen(args: &KeygenArgs) -> Result<()> {
    let ttl = go_duration::parse(&args.key_ttl)
        .ok()
        .and_then(|d| time::Duration::try_from(d).ok())
        .filter(|d| d.is_positive())
        .ok_or_else(|| {
            anyhow!(
                "invalid --key-ttl {:?}: use a positive Go duration such as 87600h",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_prefixes_are_stripped() {
        assert_eq!(strip_ns_prefix("ns/a"), "a");
        assert_eq!(strip_ns_prefix("namespaces/a"), "a");
        assert_eq!(strip_ns_prefix("a"), "a");
    }
}
