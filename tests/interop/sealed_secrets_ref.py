"""Independent Python reference implementation of the Sealed Secrets format.

Written from the format description only (upstream: bitnami-labs/sealed-secrets),
using the ``cryptography`` package.  It is used by the interop tests to check the
Rust ``kubeseal`` binary against a second, unrelated implementation.

Sealed value (before base64)::

    u16 big-endian L || R (L bytes) || G

* ``R``: RSA-OAEP(SHA-256, MGF1-SHA-256, label) of a fresh 32-byte session key K.
* ``L``: RSA modulus size in bytes.
* ``G``: AES-256-GCM(K, nonce = 12 zero bytes, no AAD) of the plaintext, tag appended.

The OAEP label depends on the scope: ``"<ns>/<name>"`` (strict), ``"<ns>"``
(namespace-wide) or empty (cluster-wide).
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import hashlib
import os
import secrets
import struct
from dataclasses import dataclass
from typing import Iterable, Mapping, Union

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtensionOID, NameOID

__all__ = [
    "API_VERSION",
    "CLUSTER_WIDE_ANNOTATION",
    "NAMESPACE_WIDE_ANNOTATION",
    "NO_KEY_MESSAGE",
    "SCOPES",
    "UnsealError",
    "KeyPair",
    "label",
    "scope_from_annotations",
    "update_scope_annotations",
    "seal_value",
    "seal_value_bytes",
    "unseal_value",
    "make_key_pair",
    "fingerprint",
    "ssh_rsa_public_blob",
    "ssh_mpint",
    "seal_secret",
    "unseal_sealed_secret",
    "load_public_key",
    "load_private_keys",
    "certificate_extensions",
    "key_usage_names",
    "basic_constraints",
]

API_VERSION = "bitnami.com/v1alpha1"
CLUSTER_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/cluster-wide"
NAMESPACE_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/namespace-wide"
LAST_APPLIED_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
)
NO_KEY_MESSAGE = "no key could decrypt secret"

STRICT = "strict"
NAMESPACE_WIDE = "namespace-wide"
CLUSTER_WIDE = "cluster-wide"
SCOPES = (STRICT, NAMESPACE_WIDE, CLUSTER_WIDE)

SESSION_KEY_LEN = 32
GCM_NONCE = bytes(12)
GCM_TAG_LEN = 16
DEFAULT_KEY_TTL = datetime.timedelta(hours=87600)
SERIAL_LIMIT = 1 << 128


class UnsealError(Exception):
    """The single error raised for every decryption failure."""

    def __init__(self, message: str = NO_KEY_MESSAGE):
        super().__init__(message)


# ---------------------------------------------------------------------------
# Scopes and labels
# ---------------------------------------------------------------------------


def _check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}: must be one of {', '.join(SCOPES)}")
    return scope


def label(scope: str, namespace: str = "", name: str = "") -> bytes:
    """OAEP label for a scope."""
    _check_scope(scope)
    if scope == CLUSTER_WIDE:
        return b""
    if scope == NAMESPACE_WIDE:
        return (namespace or "").encode("utf-8")
    return f"{namespace or ''}/{name or ''}".encode("utf-8")


def scope_from_annotations(annotations: Mapping[str, str] | None) -> str:
    """cluster-wide "true" wins, then namespace-wide "true", else strict."""
    annotations = annotations or {}
    if annotations.get(CLUSTER_WIDE_ANNOTATION) == "true":
        return CLUSTER_WIDE
    if annotations.get(NAMESPACE_WIDE_ANNOTATION) == "true":
        return NAMESPACE_WIDE
    return STRICT


def update_scope_annotations(annotations: Mapping[str, str] | None, scope: str) -> dict:
    """Return a copy of ``annotations`` that expresses exactly ``scope``."""
    _check_scope(scope)
    out = dict(annotations or {})
    out.pop(NAMESPACE_WIDE_ANNOTATION, None)
    out.pop(CLUSTER_WIDE_ANNOTATION, None)
    if scope == NAMESPACE_WIDE:
        out[NAMESPACE_WIDE_ANNOTATION] = "true"
    elif scope == CLUSTER_WIDE:
        out[CLUSTER_WIDE_ANNOTATION] = "true"
    return out


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------

PublicKeyLike = Union[x509.Certificate, rsa.RSAPublicKey, rsa.RSAPrivateKey, bytes, str, os.PathLike]


def _oaep() -> padding.OAEP:
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(),
        label=None,
    )


def _oaep_with_label(lbl: bytes) -> padding.OAEP:
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(),
        # cryptography treats an empty label like "no label"; both mean the
        # empty octet string in RFC 8017, which is what cluster-wide needs.
        label=lbl if lbl else None,
    )


def load_public_key(obj: PublicKeyLike) -> rsa.RSAPublicKey:
    """Accept a certificate, an RSA key, or PEM/DER bytes (or a path) of either."""
    if isinstance(obj, x509.Certificate):
        key = obj.public_key()
    elif isinstance(obj, rsa.RSAPrivateKey):
        key = obj.public_key()
    elif isinstance(obj, rsa.RSAPublicKey):
        key = obj
    else:
        data = obj
        if isinstance(obj, str) and "-----BEGIN" in obj:
            data = obj.encode("ascii")
        elif isinstance(obj, (str, os.PathLike)):
            with open(obj, "rb") as fh:
                data = fh.read()
        key = None
        if b"-----BEGIN CERTIFICATE-----" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        elif b"-----BEGIN" in data:
            key = serialization.load_pem_public_key(data)
        else:
            try:
                key = x509.load_der_x509_certificate(data).public_key()
            except ValueError:
                key = serialization.load_der_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("sealing needs an RSA public key")
    return key


def load_private_keys(paths_or_pems: Iterable[Union[str, bytes, os.PathLike]]) -> list:
    """Load PKCS#1 or PKCS#8 PEM private keys from paths or PEM bytes."""
    keys = []
    for item in paths_or_pems:
        data = item
        if isinstance(item, str) and "-----BEGIN" in item:
            data = item.encode("ascii")
        elif not isinstance(item, bytes):
            with open(item, "rb") as fh:
                data = fh.read()
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("not an RSA private key")
        keys.append(key)
    return keys


# ---------------------------------------------------------------------------
# Sealed values
# ---------------------------------------------------------------------------


def seal_value_bytes(
    cert_or_pubkey: PublicKeyLike,
    lbl: bytes,
    plaintext: bytes,
    session_key: bytes | None = None,
) -> bytes:
    """Hybrid-encrypt ``plaintext``; returns the raw (not base64) sealed value."""
    pub = load_public_key(cert_or_pubkey)
    if session_key is None:
        session_key = secrets.token_bytes(SESSION_KEY_LEN)
    if len(session_key) != SESSION_KEY_LEN:
        raise ValueError("session key must be 32 bytes (AES-256)")
    if isinstance(lbl, str):
        lbl = lbl.encode("utf-8")
    rsa_block = pub.encrypt(session_key, _oaep_with_label(bytes(lbl)))
    modulus_len = (pub.key_size + 7) // 8
    assert len(rsa_block) == modulus_len
    if modulus_len > 0xFFFF:
        raise ValueError("RSA modulus too large for the u16 length prefix")
    gcm = AESGCM(session_key).encrypt(GCM_NONCE, bytes(plaintext), None)
    return struct.pack(">H", len(rsa_block)) + rsa_block + gcm


def seal_value(
    cert_or_pubkey: PublicKeyLike,
    lbl: bytes,
    plaintext: bytes,
    session_key: bytes | None = None,
) -> str:
    """Hybrid-encrypt ``plaintext``; returns standard padded base64 text."""
    raw = seal_value_bytes(cert_or_pubkey, lbl, plaintext, session_key)
    return base64.b64encode(raw).decode("ascii")


def split_sealed(raw: bytes) -> tuple[bytes, bytes]:
    """Split a raw sealed value into (RSA block, GCM part); UnsealError if malformed."""
    if len(raw) < 2:
        raise UnsealError()
    (rsa_len,) = struct.unpack(">H", raw[:2])
    if len(raw) < 2 + rsa_len:
        raise UnsealError()
    return raw[2 : 2 + rsa_len], raw[2 + rsa_len :]


def _as_key_list(private_keys) -> list:
    if isinstance(private_keys, rsa.RSAPrivateKey):
        return [private_keys]
    if isinstance(private_keys, Mapping):
        return list(private_keys.values())
    return list(private_keys)


def unseal_value(private_keys, lbl: bytes, b64: Union[str, bytes]) -> bytes:
    """Decrypt one base64 sealed value, trying every private key.

    Any failure at all (bad base64, short input, wrong label, wrong key,
    tampering) raises :class:`UnsealError` with the single message
    ``"no key could decrypt secret"``.
    """
    if isinstance(lbl, str):
        lbl = lbl.encode("utf-8")
    try:
        if isinstance(b64, str):
            b64 = b64.encode("ascii")
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise UnsealError() from None
    rsa_block, gcm_part = split_sealed(raw)
    if len(gcm_part) < GCM_TAG_LEN:
        raise UnsealError()
    for key in _as_key_list(private_keys):
        try:
            session_key = key.decrypt(rsa_block, _oaep_with_label(bytes(lbl)))
        except ValueError:
            continue
        # Upstream hands the session key to aes.NewCipher, which would also
        # take 16 or 24 bytes; every conforming sealer uses 32.
        if len(session_key) not in (16, 24, 32):
            continue
        try:
            return AESGCM(session_key).decrypt(GCM_NONCE, gcm_part, None)
        except InvalidTag:
            continue
    raise UnsealError()


# ---------------------------------------------------------------------------
# OpenSSH SHA256 fingerprint
# ---------------------------------------------------------------------------


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def ssh_mpint(value: int) -> bytes:
    """RFC 4251 mpint (non-negative values only, which is all RSA needs)."""
    if value < 0:
        raise ValueError("negative mpint not supported")
    if value == 0:
        return ssh_string(b"")
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if body[0] & 0x80:
        body = b"\x00" + body
    return ssh_string(body)


def ssh_rsa_public_blob(public_key: PublicKeyLike) -> bytes:
    nums = load_public_key(public_key).public_numbers()
    return ssh_string(b"ssh-rsa") + ssh_mpint(nums.e) + ssh_mpint(nums.n)


def fingerprint(public_key: PublicKeyLike) -> str:
    """``SHA256:`` + unpadded standard base64 of SHA-256 over the SSH wire key."""
    digest = hashlib.sha256(ssh_rsa_public_blob(public_key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


# ---------------------------------------------------------------------------
# Controller key pair
# ---------------------------------------------------------------------------

# KeyUsage as a DER BIT STRING with only encipherOnly (bit 7) set.  Built by
# hand because cryptography's KeyUsage class refuses encipher_only without
# key_agreement, while upstream's controller certificate has exactly this.
_KEY_USAGE_ENCIPHER_ONLY_DER = bytes([0x03, 0x02, 0x00, 0x01])


@dataclass
class KeyPair:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @property
    def key_pem_pkcs1(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )

    @property
    def key_pem_pkcs8(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def make_key_pair(
    bits: int = 4096,
    cn: str | None = None,
    ttl: datetime.timedelta = DEFAULT_KEY_TTL,
    now: datetime.datetime | None = None,
) -> KeyPair:
    """A controller-shaped key pair.

    Self-signed certificate, subject = issuer = empty DN (or CN=cn), random
    serial in [1, 2^128), validity [now, now + ttl], KeyUsage critical with
    only encipherOnly, BasicConstraints critical CA:TRUE, a SubjectKeyIdentifier
    (as Go's x509 adds for CA certificates), sha256WithRSAEncryption.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if cn:
        dn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    else:
        dn = x509.Name([])
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    now = now.replace(microsecond=0)
    serial = 0
    while serial == 0:
        serial = secrets.randbelow(SERIAL_LIMIT)
    cert = (
        x509.CertificateBuilder()
        .subject_name(dn)
        .issuer_name(dn)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + ttl)
        .add_extension(
            x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, _KEY_USAGE_ENCIPHER_ONLY_DER),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(private_key=key, certificate=cert)


# ---------------------------------------------------------------------------
# Minimal DER reading, to inspect certificate extensions that cryptography
# refuses to model (KeyUsage with encipherOnly but not keyAgreement).
# ---------------------------------------------------------------------------


def _der_read(buf: bytes, pos: int) -> tuple[int, bytes, int]:
    """Read one TLV at ``pos``: returns (tag, value, next_pos). Low-tag-number form only."""
    if pos + 2 > len(buf):
        raise ValueError("truncated DER")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers not supported")
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(buf):
            raise ValueError("bad DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(buf):
        raise ValueError("truncated DER value")
    return tag, buf[pos:end], end


def _der_children(value: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(value):
        tag, val, pos = _der_read(value, pos)
        out.append((tag, val))
    return out


def _decode_oid(value: bytes) -> str:
    arcs, acc = [], 0
    for b in value:
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(acc)
            acc = 0
    first = arcs[0]
    if first < 40:
        head = [0, first]
    elif first < 80:
        head = [1, first - 40]
    else:
        head = [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def certificate_extensions(cert: x509.Certificate) -> dict[str, tuple[bool, bytes]]:
    """Map extension OID (dotted) -> (critical, extnValue DER) from the TBS bytes."""
    tag, tbs, _ = _der_read(cert.tbs_certificate_bytes, 0)
    if tag != 0x30:
        raise ValueError("TBSCertificate is not a SEQUENCE")
    result: dict[str, tuple[bool, bytes]] = {}
    for child_tag, child in _der_children(tbs):
        if child_tag != 0xA3:  # [3] EXPLICIT Extensions
            continue
        seq_tag, exts, _ = _der_read(child, 0)
        if seq_tag != 0x30:
            raise ValueError("Extensions is not a SEQUENCE")
        for ext_tag, ext in _der_children(exts):
            if ext_tag != 0x30:
                raise ValueError("Extension is not a SEQUENCE")
            parts = _der_children(ext)
            if parts[0][0] != 0x06:
                raise ValueError("Extension without OID")
            oid = _decode_oid(parts[0][1])
            critical = False
            rest = parts[1:]
            if rest and rest[0][0] == 0x01:
                critical = rest[0][1] != b"\x00"
                rest = rest[1:]
            if len(rest) != 1 or rest[0][0] != 0x04:
                raise ValueError("Extension without OCTET STRING value")
            if oid in result:
                raise ValueError(f"duplicate extension {oid}")
            result[oid] = (critical, rest[0][1])
    return result


_KEY_USAGE_BITS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def key_usage_names(ext_value: bytes) -> set[str]:
    """Names of the bits set in a KeyUsage extnValue (a DER BIT STRING)."""
    tag, val, end = _der_read(ext_value, 0)
    if tag != 0x03 or end != len(ext_value) or not val:
        raise ValueError("KeyUsage is not a BIT STRING")
    unused, body = val[0], val[1:]
    if unused > 7 or (not body and unused):
        raise ValueError("bad BIT STRING")
    nbits = len(body) * 8 - unused
    names = set()
    for i in range(nbits):
        if body[i // 8] & (0x80 >> (i % 8)):
            names.add(_KEY_USAGE_BITS[i] if i < len(_KEY_USAGE_BITS) else f"bit{i}")
    return names


def basic_constraints(ext_value: bytes) -> tuple[bool, int | None]:
    """(cA, pathLenConstraint) from a BasicConstraints extnValue."""
    tag, val, end = _der_read(ext_value, 0)
    if tag != 0x30 or end != len(ext_value):
        raise ValueError("BasicConstraints is not a SEQUENCE")
    ca, path_len = False, None
    for child_tag, child in _der_children(val):
        if child_tag == 0x01:
            ca = child != b"\x00"
        elif child_tag == 0x02:
            path_len = int.from_bytes(child, "big", signed=True)
    return ca, path_len


# ---------------------------------------------------------------------------
# SealedSecret objects
# ---------------------------------------------------------------------------

_SERVER_SIDE_METADATA = (
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


def secret_plaintexts(secret: Mapping) -> dict[str, bytes]:
    """The plaintext bytes of a v1 Secret: ``data`` (base64) then ``stringData`` (wins)."""
    out: dict[str, bytes] = {}
    for key, value in (secret.get("data") or {}).items():
        out[key] = base64.b64decode((value or "").encode("ascii"), validate=True)
    for key, value in (secret.get("stringData") or {}).items():
        out[key] = (value or "").encode("utf-8")
    return out


def seal_secret(
    secret_dict: Mapping,
    cert: PublicKeyLike,
    scope: str | None = None,
    default_namespace: str | None = None,
) -> dict:
    """Build a SealedSecret dict from a v1 Secret dict, following upstream kubeseal.

    * ``scope`` (the ``--scope`` flag): if given and not strict, the secret's
      scope annotations are rewritten to express it (a strict flag leaves
      annotations untouched, as upstream does).
    * ``default_namespace`` (``-n``) fills in a missing namespace unless the
      secret is cluster-wide.
    * Server-side metadata is stripped; the template keeps the rest of the
      secret's metadata minus last-applied-configuration annotations and
      ownerReferences.
    * The top-level metadata carries name, namespace and the scope annotation.
    """
    secret = copy.deepcopy(dict(secret_dict))
    meta = dict(secret.get("metadata") or {})
    if scope is not None and _check_scope(scope) != STRICT:
        meta["annotations"] = update_scope_annotations(meta.get("annotations"), scope)
    if not meta.get("name"):
        raise ValueError("Missing metadata.name in input Secret")
    effective_scope = scope_from_annotations(meta.get("annotations"))
    if effective_scope != CLUSTER_WIDE and not meta.get("namespace"):
        if default_namespace:
            meta["namespace"] = default_namespace
        else:
            raise ValueError("secret must declare a namespace")
    for field in _SERVER_SIDE_METADATA:
        meta.pop(field, None)

    template_meta = copy.deepcopy(meta)
    if template_meta.get("annotations") is not None:
        annotations = dict(template_meta["annotations"])
        for k in LAST_APPLIED_ANNOTATIONS:
            annotations.pop(k, None)
        if annotations:
            template_meta["annotations"] = annotations
        else:
            del template_meta["annotations"]
    template_meta.pop("ownerReferences", None)

    name = meta["name"]
    namespace = meta.get("namespace") or ""
    lbl = label(effective_scope, namespace, name)
    encrypted = {
        key: seal_value(cert, lbl, plaintext)
        for key, plaintext in secret_plaintexts(secret).items()
    }

    template: dict = {"metadata": template_meta}
    if secret.get("type"):
        template["type"] = secret["type"]
    if secret.get("immutable") is not None:
        template["immutable"] = secret["immutable"]

    top_meta: dict = {"name": name}
    if namespace:
        top_meta["namespace"] = namespace
    top_annotations = update_scope_annotations({}, effective_scope)
    if top_annotations:
        top_meta["annotations"] = top_annotations

    return {
        "kind": "SealedSecret",
        "apiVersion": API_VERSION,
        "metadata": top_meta,
        "spec": {"template": template, "encryptedData": encrypted},
    }


def unseal_sealed_secret(sealed: Mapping, private_keys) -> dict:
    """Decrypt a SealedSecret dict into a v1 Secret dict (``data`` base64).

    Scope and label come from the SealedSecret's own top-level metadata.
    Templated ``spec.template.data`` and ownerReferences are not modelled.
    """
    meta = sealed.get("metadata") or {}
    name = meta.get("name") or ""
    namespace = meta.get("namespace") or ""
    lbl = label(scope_from_annotations(meta.get("annotations")), namespace, name)
    spec = sealed.get("spec") or {}
    template = spec.get("template") or {}
    data = {}
    for key, value in (spec.get("encryptedData") or {}).items():
        data[key] = base64.b64encode(unseal_value(private_keys, lbl, value)).decode("ascii")
    out_meta = copy.deepcopy(dict(template.get("metadata") or {}))
    out_meta["name"] = name
    if namespace:
        out_meta["namespace"] = namespace
    secret: dict = {"apiVersion": "v1", "kind": "Secret", "metadata": out_meta}
    if template.get("type"):
        secret["type"] = template["type"]
    if template.get("immutable") is not None:
        secret["immutable"] = template["immutable"]
    secret["data"] = data
    return secret
