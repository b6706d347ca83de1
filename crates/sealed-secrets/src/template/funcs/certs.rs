//! Sprig's certificate functions (`crypto.go`): `genPrivateKey`, `genCA`,
//! `genSelfSignedCert`, `genSignedCert`, their `WithKey` forms and `buildCustomCert`.
//! The certificates are what Sprig's `getBaseCertTemplate` describes and Go's
//! `x509.CreateCertificate` makes of it: a random 128-bit serial, a subject of only a
//! CN (a PrintableString where Go picks one, else a UTF8String), valid from now for
//! `days` × 24 h, key usage digitalSignature + keyEncipherment (+ keyCertSign for a CA),
//! extended key usage serverAuth + clientAuth, basic constraints (critical), DNS then IP
//! subject alternative names, a subject key identifier on CAs (SHA-256 of the public
//! key, cut to 160 bits, as Go 1.25+ derives it), an authority key identifier on signed
//! certificates, signed with the algorithm Go picks for the key. Keys and certificates
//! differ on every call, as in Go; only their form can be compared.

use std::net::IpAddr;
use std::rc::Rc;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, DnValue, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, SanType, SerialNumber,
};
use sealed_secrets_core::cert::PEM_CERTIFICATE;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer as _, ParsedExtension, X509Certificate};
use zeroize::Zeroizing;

use super::pkey::{self, KeyType, PrivKey};
use super::{CallError, CallResult, bytes_of, err, int_of, string};
use crate::template::gotime::Clock;
use crate::template::value::{Bytes, ListTy, Value};

/// Sprig's `certificate`: PEM text of a certificate and of its private key.
pub(in crate::template) struct Certificate {
    pub(in crate::template) cert: Bytes,
    pub(in crate::template) key: Bytes,
}

impl Certificate {
    /// The struct's fields by name, in declaration order (what printing and JSON show).
    pub(in crate::template) fn named_fields(&self) -> [(&'static str, &Bytes); 2] {
        [("Cert", &self.cert), ("Key", &self.key)]
    }

    /// The fields as a map of strings.
    pub(in crate::template) fn fields(&self) -> Value {
        Value::map(
            self.named_fields()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::Str(Rc::new(v.clone()))))
                .collect(),
        )
    }
}

/// Go's `%T` of it.
pub(in crate::template) const TYPE_NAME: &str = "sprig.certificate";

/// RSA key sizes Sprig generates: `genPrivateKey` and the certificate functions.
const PRIVATE_KEY_BITS: usize = 4096;
const CERTIFICATE_KEY_BITS: usize = 2048;

/// OID of the basic constraints extension (RFC 5280 §4.2.1.9).
const BASIC_CONSTRAINTS_OID: &[u64] = &[2, 5, 29, 19];

fn certificate(cert: Bytes, key: Bytes) -> CallResult {
    Ok(Value::Cert(Rc::new(Certificate { cert, key })))
}

/// `genPrivateKey TYPE`. An unknown type gives Sprig's text as the output, not an
/// error, exactly as Sprig does; DSA is refused (docs/templates.md).
pub(super) fn gen_private_key(a: Vec<Value>) -> CallResult {
    let name = bytes_of(&a[0]);
    let Some(typ) = KeyType::from_name(name) else {
        let mut out = b"Unknown type ".to_vec();
        out.extend_from_slice(name);
        return string(out);
    };
    match PrivKey::generate(&typ, PRIVATE_KEY_BITS) {
        Ok(key) => string(key.to_pem().as_bytes()),
        Err(pkey::GenerateError(m)) => err(m),
    }
}

fn new_rsa_key() -> Result<PrivKey, CallError> {
    PrivKey::generate(&KeyType::Rsa, CERTIFICATE_KEY_BITS)
        .or_else(|_| err("error generating rsa key: the key generator failed"))
}

fn parse_key(v: &Value) -> Result<PrivKey, CallError> {
    PrivKey::from_pem(bytes_of(v)).or_else(|m| err(format!("parsing private key: {m}")))
}

/// `genCA CN DAYS`
pub(super) fn gen_ca(clock: &Clock, a: Vec<Value>) -> CallResult {
    let req = Request::new(&a[0], &Value::Missing, &Value::Missing, &a[1])?;
    let key = new_rsa_key()?;
    make(clock, &req, true, &key, None)
}

/// `genCAWithKey CN DAYS KEY`
pub(super) fn gen_ca_with_key(clock: &Clock, a: Vec<Value>) -> CallResult {
    let key = parse_key(&a[2])?;
    let req = Request::new(&a[0], &Value::Missing, &Value::Missing, &a[1])?;
    make(clock, &req, true, &key, None)
}

/// `genSelfSignedCert CN IPS DNS DAYS`
pub(super) fn gen_self_signed_cert(clock: &Clock, a: Vec<Value>) -> CallResult {
    let req = Request::new(&a[0], &a[1], &a[2], &a[3])?;
    let key = new_rsa_key()?;
    make(clock, &req, false, &key, None)
}

/// `genSelfSignedCertWithKey CN IPS DNS DAYS KEY`
pub(super) fn gen_self_signed_cert_with_key(clock: &Clock, a: Vec<Value>) -> CallResult {
    let key = parse_key(&a[4])?;
    let req = Request::new(&a[0], &a[1], &a[2], &a[3])?;
    make(clock, &req, false, &key, None)
}

/// `genSignedCert CN IPS DNS DAYS CA`
pub(super) fn gen_signed_cert(clock: &Clock, a: Vec<Value>) -> CallResult {
    let ca = Signer::from_value(&a[4])?;
    let req = Request::new(&a[0], &a[1], &a[2], &a[3])?;
    let key = new_rsa_key()?;
    make(clock, &req, false, &key, Some(&ca))
}

/// `genSignedCertWithKey CN IPS DNS DAYS CA KEY`
pub(super) fn gen_signed_cert_with_key(clock: &Clock, a: Vec<Value>) -> CallResult {
    let key = parse_key(&a[5])?;
    let ca = Signer::from_value(&a[4])?;
    let req = Request::new(&a[0], &a[1], &a[2], &a[3])?;
    make(clock, &req, false, &key, Some(&ca))
}

/// `buildCustomCert B64CERT B64KEY`: both decoded and checked (a certificate Go's
/// x509 parses, a key Sprig reads), then returned as given.
pub(super) fn build_custom_cert(a: Vec<Value>) -> CallResult {
    let Some(cert) = super::encoding::decode_std_base64(bytes_of(&a[0])) else {
        return err("unable to decode base64 certificate");
    };
    let Some(key) = super::encoding::decode_std_base64(bytes_of(&a[1])) else {
        return err("unable to decode base64 private key");
    };
    let Ok(block) = pem::parse(&cert[..]) else {
        return err("unable to decode certificate");
    };
    if X509Certificate::from_der(block.contents()).is_err() {
        return err("error parsing certificate: decodedCert.Bytes: x509: malformed certificate");
    }
    if let Err(m) = PrivKey::from_pem(&key) {
        return err(format!("error parsing private key: {m}"));
    }
    certificate(cert, key)
}

/// What a certificate is asked for: Sprig's `getBaseCertTemplate` arguments.
struct Request {
    /// The CN (`None`: not UTF-8, which Go's asn1 refuses when it writes the
    /// subject), and whether Go writes it as a PrintableString.
    cn: Option<String>,
    printable: bool,
    ips: Vec<IpAddr>,
    dns: Vec<String>,
    days: i64,
}

impl Request {
    fn new(cn: &Value, ips: &Value, dns: &Value, days: &Value) -> Result<Request, CallError> {
        let ips = items(ips)
            .iter()
            .map(|ip| match ip {
                Value::Str(s) => parse_go_ip(s).map_or_else(
                    || err("error parsing ip: not an IP address (value not shown)"),
                    Ok,
                ),
                other => err(format!(
                    "error parsing ip: a value of type {} is not a string",
                    other.type_name()
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let dns = items(dns)
            .iter()
            .map(|name| match name {
                Value::Str(s) => Ok(String::from_utf8_lossy(s).into_owned()),
                other => err(format!(
                    "error processing alternate dns name: a value of type {} is not a string",
                    other.type_name()
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cn = bytes_of(cn);
        let printable = cn.iter().all(|&c| is_go_printable(c));
        let cn = String::from_utf8(cn.to_vec()).ok();
        Ok(Request {
            cn,
            printable,
            ips,
            dns,
            days: int_of(days),
        })
    }

    /// The subject's DER as Go marshals `pkix.Name{CommonName: cn}`.
    fn subject_der(&self) -> Vec<u8> {
        use sealed_secrets_core::der::write_tlv as tlv;
        let cn = self.cn.as_deref().unwrap_or_default();
        if cn.is_empty() {
            return tlv(0x30, &[]);
        }
        // id-at-commonName 2.5.4.3
        let mut attr = vec![0x06, 0x03, 0x55, 0x04, 0x03];
        attr.extend(tlv(if self.printable { 0x13 } else { 0x0c }, cn.as_bytes()));
        tlv(0x30, &tlv(0x31, &tlv(0x30, &attr)))
    }
}

/// The elements of a `[]interface {}` argument (nil and a missing value are empty).
fn items(v: &Value) -> &[Value] {
    match v {
        Value::List(items, ListTy::Any) => items,
        _ => &[],
    }
}

/// Go's `net.ParseIP`, then `To4` where the address has one (as x509 writes it).
fn parse_go_ip(s: &[u8]) -> Option<IpAddr> {
    let ip: IpAddr = std::str::from_utf8(s).ok()?.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// encoding/asn1's `isPrintable` as Marshal applies it (no `*`, no `&`).
fn is_go_printable(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&c)
}

/// The CA of `genSignedCert`: its certificate and key, read as Sprig reads them.
struct Signer {
    der: Vec<u8>,
    key: PrivKey,
    /// The CA's subject as it is encoded, whether it has a subject key identifier,
    /// and its public key (the subjectPublicKey bits).
    subject: Vec<u8>,
    has_key_id: bool,
    public_key: Vec<u8>,
}

impl Signer {
    fn from_value(v: &Value) -> Result<Signer, CallError> {
        let Value::Cert(ca) = v else {
            return err("unable to decode certificate");
        };
        let Ok(block) = pem::parse(&ca.cert[..]) else {
            return err("unable to decode certificate");
        };
        let der = block.into_contents();
        let (subject, has_key_id, public_key) = match X509Certificate::from_der(&der) {
            Ok((_, cert)) => (
                cert.subject().as_raw().to_vec(),
                cert.extensions().iter().any(|e| {
                    matches!(
                        e.parsed_extension(),
                        ParsedExtension::SubjectKeyIdentifier(_)
                    )
                }),
                cert.public_key().subject_public_key.data.to_vec(),
            ),
            Err(_) => {
                return err(
                    "error parsing certificate: decodedSignerCert.Bytes: x509: malformed certificate",
                );
            }
        };
        let key = PrivKey::from_pem(&ca.key)
            .or_else(|m| err(format!("error parsing private key: {m}")))?;
        Ok(Signer {
            der,
            key,
            subject,
            has_key_id,
            public_key,
        })
    }
}

/// Go's `x509.CreateCertificate` of Sprig's template for `key`, self-signed or signed
/// by `ca`, with the certificate and key in Sprig's PEM forms.
fn make(
    clock: &Clock,
    req: &Request,
    is_ca: bool,
    key: &PrivKey,
    ca: Option<&Signer>,
) -> CallResult {
    let failed = |m: String| err(format!("error creating certificate: {m}"));
    // Go's `CreateCertificate` checks, in its order: the signing key can sign, the
    // subject's public key can be certified (a DSA key can do neither), the subject
    // can be written, the CA's key is its certificate's; the names come later.
    let signing_key = match ca.map(|ca| ca.key.signer()).transpose() {
        Ok(k) => k,
        Err(m) => return failed(m),
    };
    let subject_key = match key.signer() {
        Ok(k) => k,
        Err(m) if ca.is_none() => return failed(m),
        Err(_) => return failed("x509: unsupported public key type: *dsa.PublicKey".into()),
    };
    let Some(cn) = req.cn.as_deref() else {
        return failed("asn1: string not valid UTF-8".into());
    };
    if let (Some(ca), Some(k)) = (ca, &signing_key)
        && ca.public_key != k.public_key_raw()
    {
        return failed("x509: provided PrivateKey doesn't match parent's PublicKey".into());
    }
    let mut params = CertificateParams::default();
    let mut serial = [0u8; 16];
    super::random::fill(&mut serial)?;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.distinguished_name = rcgen::DistinguishedName::new();
    if !cn.is_empty() {
        let value = if req.printable {
            match rcgen::string::PrintableString::try_from(cn) {
                Ok(p) => DnValue::PrintableString(p),
                Err(_) => DnValue::Utf8String(cn.to_owned()),
            }
        } else {
            DnValue::Utf8String(cn.to_owned())
        };
        params.distinguished_name.push(DnType::CommonName, value);
    }
    let now = clock.now().unix_nanos();
    let Ok(not_before) = OffsetDateTime::from_unix_timestamp_nanos(now) else {
        return failed("the clock is out of range".into());
    };
    // `time.Hour * 24 * time.Duration(days)` wraps as Go's int64 nanoseconds do.
    let validity = 86_400_000_000_000i64.wrapping_mul(req.days);
    params.not_before = not_before;
    params.not_after = not_before + time::Duration::nanoseconds(validity);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    for name in &req.dns {
        match name.as_str().try_into() {
            Ok(ia5) => params.subject_alt_names.push(SanType::DnsName(ia5)),
            Err(_) => {
                return failed(
                    "x509: a DNS name cannot be encoded as an IA5String (value not shown)".into(),
                );
            }
        }
    }
    params
        .subject_alt_names
        .extend(req.ips.iter().map(|ip| SanType::IpAddress(*ip)));
    if is_ca {
        params.key_usages.push(KeyUsagePurpose::KeyCertSign);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let digest = Sha256::digest(subject_key.public_key_raw());
        params.key_identifier_method = KeyIdMethod::PreSpecified(digest[..20].to_vec());
    } else {
        // Go writes `cA: false` as an empty critical basic constraints and no subject
        // key identifier, which rcgen's ExplicitNoCa would add.
        params.is_ca = IsCa::NoCa;
        let mut bc = CustomExtension::from_oid_content(BASIC_CONSTRAINTS_OID, vec![0x30, 0x00]);
        bc.set_criticality(true);
        params.custom_extensions.push(bc);
    }
    let made = match (ca, signing_key) {
        (Some(ca), Some(signing_key)) => {
            // Go names the CA's key only when the subject differs from the issuer.
            params.use_authority_key_identifier_extension =
                ca.has_key_id && ca.subject != req.subject_der();
            let issuer = match Issuer::from_ca_cert_der(&ca.der[..].into(), signing_key) {
                Ok(i) => i,
                Err(_) => return failed("the CA certificate's subject cannot be copied".into()),
            };
            params.signed_by(&subject_key, &issuer)
        }
        _ => params.self_signed(&subject_key),
    };
    match made {
        Ok(cert) => certificate(
            Zeroizing::new(
                pkey::pem_encode(PEM_CERTIFICATE, cert.der())
                    .as_bytes()
                    .to_vec(),
            ),
            Zeroizing::new(key.to_pem().as_bytes().to_vec()),
        ),
        Err(e) => failed(format!("x509: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use x509_parser::extensions::GeneralName;
    use x509_parser::prelude::X509Certificate;
    use zeroize::Zeroizing;

    use crate::template::{Clock, Values, render_with_clock};

    /// 2025-11-24T16:00:00Z; certificates start at the clock's now.
    const NOW: i64 = 1_764_000_000;

    fn render(src: &str, key: &[u8]) -> Result<String, String> {
        let mut values = Values::new();
        values.insert("key".into(), Zeroizing::new(key.to_vec()));
        render_with_clock("t", src, &values, &Clock::fixed(NOW, "UTC"))
            .map(|out| String::from_utf8(out.to_vec()).unwrap())
            .map_err(|e| e.to_string())
    }

    fn ok(src: &str) -> String {
        render(src, b"").unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    /// The PEM blocks of `text`, in order, with their labels.
    fn blocks(text: &str) -> Vec<(String, Vec<u8>)> {
        pem::parse_many(text)
            .unwrap()
            .into_iter()
            .map(|b| (b.tag().to_owned(), b.into_contents()))
            .collect()
    }

    struct Parsed {
        der: Vec<u8>,
        key_label: String,
        key_der: Vec<u8>,
    }

    /// A template printing `{{ $c.Cert }}{{ $c.Key }}` for a certificate `$c`.
    fn cert_and_key(text: &str) -> Parsed {
        let b = blocks(text);
        assert_eq!(b.len(), 2, "{text}");
        assert_eq!(b[0].0, "CERTIFICATE");
        Parsed {
            der: b[0].1.clone(),
            key_label: b[1].0.clone(),
            key_der: b[1].1.clone(),
        }
    }

    fn x509(der: &[u8]) -> X509Certificate<'_> {
        X509Certificate::from_der(der).unwrap().1
    }

    fn ski(c: &X509Certificate<'_>) -> Option<Vec<u8>> {
        c.extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
                _ => None,
            })
    }

    fn aki(c: &X509Certificate<'_>) -> Option<Vec<u8>> {
        c.extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(k) => {
                    k.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => None,
            })
    }

    use super::*;

    #[test]
    fn ca_has_sprigs_template() {
        let p = cert_and_key(&ok(
            r#"{{ $c := genCA "Shop CA" 30 }}{{ $c.Cert }}{{ $c.Key }}"#,
        ));
        assert_eq!(p.key_label, "RSA PRIVATE KEY");
        let c = x509(&p.der);
        assert_eq!(c.subject().to_string(), "CN=Shop CA");
        assert_eq!(c.issuer().as_raw(), c.subject().as_raw());
        // A printable CN is a PrintableString, as Go writes it.
        assert!(
            c.subject()
                .as_raw()
                .windows(9)
                .any(|w| w == b"\x13\x07Shop CA")
        );
        assert_eq!(c.validity().not_before.timestamp(), NOW);
        assert_eq!(c.validity().not_after.timestamp(), NOW + 30 * 86_400);
        assert!(c.raw_serial().len() <= 17, "a serial below 2^128");
        let bc = c.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca && bc.value.path_len_constraint.is_none());
        let ku = c.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && ku.key_encipherment() && ku.key_cert_sign());
        assert!(!ku.crl_sign() && !ku.non_repudiation());
        let eku = c.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && eku.client_auth && !eku.any && eku.other.is_empty());
        let raw = c.public_key().subject_public_key.data.to_vec();
        assert_eq!(ski(&c).unwrap(), Sha256::digest(&raw)[..20].to_vec());
        assert_eq!(aki(&c), None, "Go leaves it out when issuer = subject");
        assert!(c.subject_alternative_name().unwrap().is_none());
        assert_eq!(
            c.signature_algorithm.algorithm.to_id_string(),
            "1.2.840.113549.1.1.11"
        );
        c.verify_signature(None).expect("self-signed");
        // The key is the certificate's.
        let key = sealed_secrets_core::PrivateKey::from_pkcs1_der(&p.key_der).unwrap();
        assert_eq!(key.public_key().spki_der(), c.public_key().raw);
    }

    #[test]
    fn self_signed_certificate_has_dns_then_ip_names_and_no_key_id() {
        let p = cert_and_key(&ok(
            r#"{{ $c := genSelfSignedCert "shop" (list "10.0.0.1" "::ffff:10.0.0.2" "fd00::1") (list "shop.example" "*.shop.example") 1 }}{{ $c.Cert }}{{ $c.Key }}"#,
        ));
        let c = x509(&p.der);
        let names: Vec<String> = c
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|n| match n {
                GeneralName::DNSName(d) => format!("dns:{d}"),
                GeneralName::IPAddress(ip) => format!("ip:{}", ip.len()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            names,
            [
                "dns:shop.example",
                "dns:*.shop.example",
                "ip:4",
                "ip:4",
                "ip:16"
            ]
        );
        let bc = c.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && !bc.value.ca);
        let ku = c.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && ku.key_encipherment() && !ku.key_cert_sign());
        assert_eq!(ski(&c), None);
        assert_eq!(aki(&c), None);
        c.verify_signature(None).unwrap();
        // Missing and nil lists are empty, as Go passes a nil slice.
        let p = cert_and_key(&ok(
            r#"{{ $c := genSelfSignedCert "" nil .nope 1 }}{{ $c.Cert }}{{ $c.Key }}"#,
        ));
        let c = x509(&p.der);
        assert_eq!(c.subject().as_raw(), [0x30, 0x00]);
        assert!(c.subject_alternative_name().unwrap().is_none());
    }

    #[test]
    fn signed_certificate_chains_to_its_ca() {
        let out = ok(
            r#"{{ $ca := genCA "Shop CA" 365 }}{{ $c := genSignedCert "shop" nil (list "shop.example") 30 $ca }}{{ $ca.Cert }}{{ $c.Cert }}{{ $c.Key }}"#,
        );
        let b = blocks(&out);
        let (ca, leaf) = (x509(&b[0].1), x509(&b[1].1));
        assert_eq!(leaf.issuer().as_raw(), ca.subject().as_raw());
        assert_eq!(aki(&leaf), ski(&ca));
        leaf.verify_signature(Some(ca.public_key()))
            .expect("signed by the CA");
        assert!(leaf.verify_signature(Some(leaf.public_key())).is_err());
        assert_eq!(b[2].0, "RSA PRIVATE KEY");
        // Same CN as the CA: Go writes no authority key identifier.
        let out = ok(
            r#"{{ $ca := genCA "same" 1 }}{{ $c := genSignedCert "same" nil nil 1 $ca }}{{ $c.Cert }}"#,
        );
        assert_eq!(aki(&x509(&blocks(&out)[0].1)), None);
    }

    #[test]
    fn given_keys_sign_with_the_algorithm_go_picks() {
        for (typ, label, alg) in [
            ("ecdsa", "EC PRIVATE KEY", "1.2.840.10045.4.3.2"),
            ("ed25519", "PRIVATE KEY", "1.3.101.112"),
        ] {
            let key = ok(&format!("{{{{ genPrivateKey {typ:?} }}}}"));
            let src = r#"{{ $ca := genCAWithKey "CA" 1 .key }}{{ $c := genSignedCertWithKey "x" nil nil 1 $ca .key }}{{ $ca.Cert }}{{ $c.Cert }}{{ $c.Key }}"#;
            let out = render(src, key.as_bytes()).unwrap();
            let b = blocks(&out);
            assert_eq!(b[2].0, label);
            assert_eq!(
                pkey::pem_encode(label, &b[2].1).as_str(),
                key,
                "the key comes back as given"
            );
            let (ca, leaf) = (x509(&b[0].1), x509(&b[1].1));
            assert_eq!(ca.signature_algorithm.algorithm.to_id_string(), alg);
            leaf.verify_signature(Some(ca.public_key())).unwrap();
        }
    }

    #[test]
    fn certificates_are_go_structs_in_templates() {
        assert_eq!(
            ok(r#"{{ typeOf (genCA "a" 1) }} {{ kindOf (genCA "a" 1) }}"#),
            "sprig.certificate struct"
        );
        let out = ok(
            r#"{{ $c := genCA "a" 1 }}{{ eq (printf "%v" $c) (print "{" $c.Cert " " $c.Key "}") }} {{ eq $c $c }} {{ empty $c }}"#,
        );
        assert_eq!(out, "true true false");
        let json = ok(r#"{{ $c := genCA "a" 1 }}{{ toJson $c }}"#);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(
            v["Cert"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----\n")
        );
        assert!(
            v["Key"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
        );
        let e = render(r#"{{ (genCA "a" 1).Nope }}"#, b"").unwrap_err();
        assert!(
            e.contains("can't evaluate field Nope in type sprig.certificate"),
            "{e}"
        );
        let e = render(r#"{{ genSignedCert "a" nil nil 1 (dict) }}"#, b"").unwrap_err();
        assert!(
            e.contains("expected sprig.certificate; got map[string]interface {}"),
            "{e}"
        );
        let e = render(
            r#"{{ genSelfSignedCert "a" (splitList "," "x") nil 1 }}"#,
            b"",
        )
        .unwrap_err();
        assert!(e.contains("expected []interface {}; got []string"), "{e}");
    }

    #[test]
    fn build_custom_cert_checks_and_keeps_its_inputs() {
        let out = ok(
            r#"{{ $c := genCA "a" 1 }}{{ $b := buildCustomCert (b64enc $c.Cert) (b64enc $c.Key) }}{{ eq $b.Cert $c.Cert }} {{ eq $b.Key $c.Key }}"#,
        );
        assert_eq!(out, "true true");
        for (src, want) in [
            (
                r#"{{ buildCustomCert "%%" "" }}"#,
                "unable to decode base64 certificate",
            ),
            (
                r#"{{ buildCustomCert "" "%%" }}"#,
                "unable to decode base64 private key",
            ),
            (
                r#"{{ buildCustomCert "" "" }}"#,
                "unable to decode certificate",
            ),
            (
                r#"{{ buildCustomCert (b64enc (genCA "a" 1).Cert) (b64enc "x") }}"#,
                "error parsing private key: no PEM data in input",
            ),
        ] {
            let e = render(src, b"").unwrap_err();
            assert!(e.contains(want), "{src}: {e}");
        }
    }

    #[test]
    fn bad_arguments_get_sprigs_errors_without_values() {
        for (src, want) in [
            (
                r#"{{ genSelfSignedCert "a" (list .key) nil 1 }}"#,
                "error parsing ip: not an IP address (value not shown)",
            ),
            (
                r#"{{ genSelfSignedCert "a" (list 1) nil 1 }}"#,
                "error parsing ip: a value of type int is not a string",
            ),
            (
                r#"{{ genSelfSignedCert "a" nil (list 1) 1 }}"#,
                "error processing alternate dns name: a value of type int",
            ),
            (
                r#"{{ genCAWithKey "a" 1 "nope" }}"#,
                "parsing private key: no PEM data in input",
            ),
            (
                r#"{{ genSignedCert "a" nil nil 1 (buildCustomCert "" "") }}"#,
                "unable to decode certificate",
            ),
            (
                r#"{{ genSelfSignedCert "a" nil (list .key) 1 }}"#,
                "cannot be encoded as an IA5String",
            ),
            (r#"{{ genPrivateKey "dsa" }}"#, "does not generate DSA keys"),
        ] {
            // A value (here `.key`) never shows in the message; the template's own
            // text does, as in Go.
            let value = "bücher.300.1.1";
            let e = render(src, value.as_bytes()).unwrap_err();
            assert!(e.contains(want), "{src}: {e}");
            assert!(!e.contains(value), "{e}");
        }
        assert_eq!(ok(r#"{{ genPrivateKey "rsa2" }}"#), "Unknown type rsa2");
    }
}
