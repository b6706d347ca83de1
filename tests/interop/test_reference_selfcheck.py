"""Self-checks of the Python reference implementation (no kubeseal binary needed).

Run: python3 -m pytest tests/interop/test_reference_selfcheck.py
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sealed_secrets_ref as ref  # noqa: E402

NS, NAME = "prod", "app-credentials"

# A fixed RSA-2048 public key (e = 65537) and the fingerprint `ssh-keygen -lf`
# printed for it (OpenSSH 9.x): "2048 SHA256:xm0K... no comment (RSA)".
KNOWN_N = int(
    "e3813580d6908757f327dbb1fd9a772516cc30e14c14a6f36f5600d31ccaed8d"
    "c0493f2cc55268b5923e6cd9c1c5d79adb618464dde25f6ccf03a53ea08c3996"
    "aa30df500c897fb65cce2ce9d45ed3e5216884121f04a4fe56729c99640c3936"
    "69f32ab735f94addfbb545dd18daa6f9f0d2585981440b2ab8d2b760e414e5bc"
    "05bbce56509c89f3fb5c872d8a85e055be8f290f78e4482f547a88df3940cbe4"
    "7e96203b42869dcf214088baf27f035843c5646bae976a1e883b359b08f40f61"
    "8a15163713ff4cbea09d7322c059af014a017055f9dd81c17953a6143c24809e"
    "23c27b5903e46997e5414c14be20ad4d318b18492b1dc20decc9cacb5a66a8bf",
    16,
)
KNOWN_FP = "SHA256:xm0KpbVpEN6+okPjKHGqnIrSaLkrazbBBdpn/DBgxH0"


@pytest.fixture(scope="module")
def kp():
    return ref.make_key_pair(2048)


@pytest.fixture(scope="module")
def kp_other():
    return ref.make_key_pair(2048)


@pytest.fixture(scope="module")
def kp_cn():
    return ref.make_key_pair(2048, cn="sealed-secrets-test", ttl=datetime.timedelta(hours=720))


# --- labels and scopes -------------------------------------------------------


def test_labels():
    assert ref.label("strict", "ns", "name") == b"ns/name"
    assert ref.label("namespace-wide", "ns", "name") == b"ns"
    assert ref.label("cluster-wide", "ns", "name") == b""
    assert ref.label("strict", "ñs", "nämé") == "ñs/nämé".encode("utf-8")
    with pytest.raises(ValueError):
        ref.label("bogus", "ns", "name")


def test_scope_from_annotations():
    cw, nw = ref.CLUSTER_WIDE_ANNOTATION, ref.NAMESPACE_WIDE_ANNOTATION
    assert ref.scope_from_annotations(None) == "strict"
    assert ref.scope_from_annotations({nw: "true"}) == "namespace-wide"
    assert ref.scope_from_annotations({cw: "true"}) == "cluster-wide"
    assert ref.scope_from_annotations({cw: "true", nw: "true"}) == "cluster-wide"
    assert ref.scope_from_annotations({cw: "false", nw: "true"}) == "namespace-wide"
    assert ref.scope_from_annotations({cw: "True"}) == "strict"


# --- sealed values -----------------------------------------------------------


@pytest.mark.parametrize("scope", ref.SCOPES)
@pytest.mark.parametrize("plaintext", [b"", b"s3cr3t", bytes(range(256)) * 5, b"\xff\xfe\x00\x80"])
def test_value_round_trip(kp, scope, plaintext):
    lbl = ref.label(scope, NS, NAME)
    sealed = ref.seal_value(kp.certificate, lbl, plaintext)
    raw = base64.b64decode(sealed, validate=True)
    assert raw[:2] == b"\x01\x00"
    assert len(raw) == 2 + 256 + len(plaintext) + 16
    assert ref.unseal_value([kp.private_key], lbl, sealed) == plaintext


@pytest.mark.parametrize("scope", ref.SCOPES)
def test_tries_every_key(kp, kp_other, scope):
    lbl = ref.label(scope, NS, NAME)
    sealed = ref.seal_value(kp.public_key, lbl, b"value")
    assert ref.unseal_value([kp_other.private_key, kp.private_key], lbl, sealed) == b"value"
    assert ref.unseal_value({"a": kp_other.private_key, "b": kp.private_key}, lbl, sealed) == b"value"
    with pytest.raises(ref.UnsealError, match="^no key could decrypt secret$"):
        ref.unseal_value([kp_other.private_key], lbl, sealed)


def test_4096_layout():
    kp = ref.make_key_pair(4096)
    sealed = ref.seal_value(kp.cert_pem, b"ns/n", b"abc")
    raw = base64.b64decode(sealed)
    assert raw[:2] == b"\x02\x00"
    assert len(raw) == 2 + 512 + 3 + 16
    assert ref.unseal_value(kp.private_key, b"ns/n", sealed) == b"abc"


WRONG_LABELS = [
    ("strict", "namespace-wide"),
    ("strict", "cluster-wide"),
    ("namespace-wide", "strict"),
    ("namespace-wide", "cluster-wide"),
    ("cluster-wide", "strict"),
    ("cluster-wide", "namespace-wide"),
]


@pytest.mark.parametrize("sealed_scope,opened_scope", WRONG_LABELS)
def test_wrong_scope_label_fails(kp, sealed_scope, opened_scope):
    sealed = ref.seal_value(kp.certificate, ref.label(sealed_scope, NS, NAME), b"x")
    with pytest.raises(ref.UnsealError):
        ref.unseal_value([kp.private_key], ref.label(opened_scope, NS, NAME), sealed)


def test_wrong_namespace_or_name_fails(kp):
    sealed = ref.seal_value(kp.certificate, ref.label("strict", NS, NAME), b"x")
    for ns, name in [("other", NAME), (NS, "other"), (NS + "/" + NAME, "")]:
        with pytest.raises(ref.UnsealError):
            ref.unseal_value([kp.private_key], ref.label("strict", ns, name), sealed)


def test_malformed_and_tampered_values_fail(kp):
    lbl = b"ns/name"
    raw = bytearray(base64.b64decode(ref.seal_value(kp.certificate, lbl, b"payload")))
    cases = {
        "not base64": "%%%not-base64%%%",
        "empty": "",
        "one byte": base64.b64encode(b"\x01").decode(),
        "length beyond data": base64.b64encode(b"\xff\xff" + bytes(10)).decode(),
        "no tag": base64.b64encode(bytes(raw[: 2 + 256 + 3])).decode(),
    }
    rsa_flip = bytearray(raw)
    rsa_flip[2 + 100] ^= 0x01
    cases["rsa byte flipped"] = base64.b64encode(bytes(rsa_flip)).decode()
    gcm_flip = bytearray(raw)
    gcm_flip[2 + 256 + 1] ^= 0x80
    cases["gcm byte flipped"] = base64.b64encode(bytes(gcm_flip)).decode()
    tag_flip = bytearray(raw)
    tag_flip[-1] ^= 0x01
    cases["tag byte flipped"] = base64.b64encode(bytes(tag_flip)).decode()
    for what, value in cases.items():
        with pytest.raises(ref.UnsealError, match="^no key could decrypt secret$"):
            ref.unseal_value([kp.private_key], lbl, value)


def test_known_answer_with_fixed_session_key(kp):
    """Decompose a sealed value by hand with primitives configured independently."""
    session_key = bytes(range(32))
    plaintext = b"known answer"
    raw = base64.b64decode(ref.seal_value(kp.certificate, b"ns/name", plaintext, session_key=session_key))
    rsa_len = int.from_bytes(raw[:2], "big")
    assert rsa_len == 256
    rsa_block, gcm = raw[2 : 2 + rsa_len], raw[2 + rsa_len :]
    # G is deterministic given K: AES-256-GCM, zero nonce, no AAD, tag appended.
    assert gcm == AESGCM(session_key).encrypt(b"\x00" * 12, plaintext, None)
    assert len(gcm) == len(plaintext) + 16
    # R opens with OAEP SHA-256 / MGF1-SHA-256 and the label ...
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"ns/name")
    assert kp.private_key.decrypt(rsa_block, oaep) == session_key
    # ... and not with MGF1-SHA-1 (a common mix-up) nor without the label.
    wrong_mgf = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA256(), label=b"ns/name")
    with pytest.raises(ValueError):
        kp.private_key.decrypt(rsa_block, wrong_mgf)
    no_label = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    with pytest.raises(ValueError):
        kp.private_key.decrypt(rsa_block, no_label)


def test_fresh_session_key_each_time(kp):
    a = ref.seal_value(kp.certificate, b"l", b"same")
    b = ref.seal_value(kp.certificate, b"l", b"same")
    assert a != b
    assert base64.b64decode(a)[2 + 256 :] != base64.b64decode(b)[2 + 256 :]


# --- fingerprints ------------------------------------------------------------


def test_mpint_rfc4251_examples():
    assert ref.ssh_mpint(0) == bytes.fromhex("00000000")
    assert ref.ssh_mpint(0x9A378F9B2E332A7) == bytes.fromhex("0000000809a378f9b2e332a7")
    assert ref.ssh_mpint(0x80) == bytes.fromhex("000000020080")
    assert ref.ssh_mpint(0x7F) == bytes.fromhex("000000017f")


def test_fingerprint_known_key():
    pub = rsa.RSAPublicNumbers(65537, KNOWN_N).public_key()
    assert ref.fingerprint(pub) == KNOWN_FP


def _openssh_blob(pub) -> bytes:
    line = pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    kind, b64 = line.split()[:2]
    assert kind == b"ssh-rsa"
    return base64.b64decode(b64)


@pytest.mark.parametrize("which", ["kp", "kp_other", "kp_cn", "known"])
def test_fingerprint_matches_openssh_serialization(request, which):
    if which == "known":
        pub = rsa.RSAPublicNumbers(65537, KNOWN_N).public_key()
    else:
        pub = request.getfixturevalue(which).public_key
    blob = _openssh_blob(pub)
    assert ref.ssh_rsa_public_blob(pub) == blob
    expected = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert ref.fingerprint(pub) == expected
    assert "=" not in ref.fingerprint(pub)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
@pytest.mark.parametrize("which", ["kp", "known"])
def test_fingerprint_matches_ssh_keygen(request, tmp_path, which):
    if which == "known":
        pub = rsa.RSAPublicNumbers(65537, KNOWN_N).public_key()
    else:
        pub = request.getfixturevalue(which).public_key
    path = tmp_path / "key.pub"
    path.write_bytes(pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) + b"\n")
    out = subprocess.run(["ssh-keygen", "-E", "sha256", "-lf", str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.split()[1] == ref.fingerprint(pub)
    # fingerprint of the certificate equals that of its key
    if which == "kp":
        assert ref.fingerprint(request.getfixturevalue("kp").certificate) == ref.fingerprint(pub)


# --- certificates ------------------------------------------------------------


def _check_controller_cert(kp, bits, cn, ttl):
    cert = kp.certificate
    assert cert.version.name == "v3"
    if cn is None:
        assert len(cert.subject) == 0 and len(cert.issuer) == 0
        assert cert.subject.public_bytes() == b"\x30\x00"
    else:
        assert cert.subject.rfc4514_string() == f"CN={cn}"
        assert cert.issuer == cert.subject
    assert cert.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.11"
    assert 0 < cert.serial_number < 2**128
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == ttl
    assert kp.public_key.key_size == bits
    assert cert.public_key().public_numbers() == kp.private_key.private_numbers().public_numbers
    kp.public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256())
    exts = ref.certificate_extensions(cert)
    ku_critical, ku = exts["2.5.29.15"]
    assert ku_critical is True
    assert ref.key_usage_names(ku) == {"encipher_only"}
    bc_critical, bc = exts["2.5.29.19"]
    assert bc_critical is True
    assert ref.basic_constraints(bc) == (True, None)
    assert set(exts) <= {"2.5.29.15", "2.5.29.19", "2.5.29.14"}


def test_certificate_shape_default(kp):
    _check_controller_cert(kp, 2048, None, datetime.timedelta(hours=87600))


def test_certificate_shape_cn_ttl(kp_cn):
    _check_controller_cert(kp_cn, 2048, "sealed-secrets-test", datetime.timedelta(hours=720))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_certificate_shape_vs_openssl(tmp_path, kp):
    """Cross-check the hand-written DER walker against openssl's decoding."""
    path = tmp_path / "cert.pem"
    path.write_bytes(kp.cert_pem)
    text = subprocess.run(
        ["openssl", "x509", "-in", str(path), "-noout", "-text"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line.strip() for line in text.splitlines()]
    ku_at = lines.index("X509v3 Key Usage: critical")
    assert lines[ku_at + 1] == "Encipher Only"
    bc_at = lines.index("X509v3 Basic Constraints: critical")
    assert lines[bc_at + 1] == "CA:TRUE"
    assert "Signature Algorithm: sha256WithRSAEncryption" in lines


def test_key_usage_decoder():
    assert ref.key_usage_names(bytes.fromhex("03020001")) == {"encipher_only"}
    assert ref.key_usage_names(bytes.fromhex("030205a0")) == {"digital_signature", "key_encipherment"}
    # decipherOnly lives in the second byte; unused bits must be ignored
    assert ref.key_usage_names(bytes.fromhex("0303070080")) == {"decipher_only"}
    assert ref.key_usage_names(bytes.fromhex("030201ff")) == {
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign",
    }


def test_pkcs1_and_pkcs8_load_the_same_key(kp):
    assert kp.key_pem_pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert kp.key_pem_pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    k1, k8 = ref.load_private_keys([kp.key_pem_pkcs1, kp.key_pem_pkcs8])
    assert k1.private_numbers() == k8.private_numbers() == kp.private_key.private_numbers()


# --- SealedSecret objects ----------------------------------------------------


def _secret(annotations=None, namespace=NS):
    meta = {
        "name": NAME,
        "labels": {"app": "web"},
        "annotations": {
            "team": "payments",
            "kubectl.kubernetes.io/last-applied-configuration": '{"leak": "me"}',
            **(annotations or {}),
        },
        "uid": "1234",
        "resourceVersion": "99",
        "creationTimestamp": "2024-01-01T00:00:00Z",
        "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "x", "uid": "y"}],
    }
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "Opaque",
        "data": {
            "password": base64.b64encode(b"hunter2").decode(),
            "binary": base64.b64encode(b"\xff\x00\xfe\x80").decode(),
            "empty": "",
        },
        "stringData": {"config": "a: ü\n", "emptystr": ""},
    }


EXPECTED = {
    "password": b"hunter2",
    "binary": b"\xff\x00\xfe\x80",
    "empty": b"",
    "config": "a: ü\n".encode(),
    "emptystr": b"",
}


@pytest.mark.parametrize("scope", ref.SCOPES)
@pytest.mark.parametrize("via", ["annotation", "flag"])
def test_seal_secret_round_trip(kp, kp_other, scope, via):
    if via == "annotation":
        secret = _secret(ref.update_scope_annotations({}, scope))
        ss = ref.seal_secret(secret, kp.certificate)
    else:
        ss = ref.seal_secret(_secret(), kp.certificate, scope=scope)
    assert ss["kind"] == "SealedSecret" and ss["apiVersion"] == "bitnami.com/v1alpha1"
    assert ss["metadata"]["name"] == NAME and ss["metadata"]["namespace"] == NS
    assert ss["metadata"].get("annotations", {}) == ref.update_scope_annotations({}, scope)
    tmeta = ss["spec"]["template"]["metadata"]
    assert tmeta["labels"] == {"app": "web"}
    assert "kubectl.kubernetes.io/last-applied-configuration" not in tmeta["annotations"]
    assert tmeta["annotations"]["team"] == "payments"
    assert ref.scope_from_annotations(tmeta["annotations"]) == scope
    assert "ownerReferences" not in tmeta and "uid" not in tmeta and "resourceVersion" not in tmeta
    assert set(ss["spec"]["encryptedData"]) == set(EXPECTED)
    lbl = ref.label(scope, NS, NAME)
    for key, value in ss["spec"]["encryptedData"].items():
        assert ref.unseal_value([kp.private_key], lbl, value) == EXPECTED[key]
    secret = ref.unseal_sealed_secret(ss, [kp_other.private_key, kp.private_key])
    assert {k: base64.b64decode(v) for k, v in secret["data"].items()} == EXPECTED
    assert secret["metadata"]["name"] == NAME and secret["metadata"]["namespace"] == NS
    assert secret["type"] == "Opaque"


def test_unseal_uses_top_level_scope_only(kp):
    """Template annotations must not influence the label used for unsealing."""
    ss = ref.seal_secret(_secret(), kp.certificate, scope="cluster-wide")
    ss["metadata"].pop("annotations")  # top-level now says strict, template still cluster-wide
    with pytest.raises(ref.UnsealError):
        ref.unseal_sealed_secret(ss, [kp.private_key])


def test_seal_secret_namespace_rules(kp):
    with pytest.raises(ValueError):
        ref.seal_secret(_secret(namespace=None), kp.certificate)
    ss = ref.seal_secret(_secret(namespace=None), kp.certificate, default_namespace="team-a")
    assert ss["metadata"]["namespace"] == "team-a"
    assert ss["spec"]["template"]["metadata"]["namespace"] == "team-a"
    value = ss["spec"]["encryptedData"]["password"]
    assert ref.unseal_value([kp.private_key], b"team-a/" + NAME.encode(), value) == b"hunter2"
    # cluster-wide needs no namespace
    ss = ref.seal_secret(_secret(namespace=None), kp.certificate, scope="cluster-wide")
    assert "namespace" not in ss["metadata"]
    assert ref.unseal_value([kp.private_key], b"", ss["spec"]["encryptedData"]["password"]) == b"hunter2"


def test_string_data_wins_over_data(kp):
    secret = {
        "metadata": {"name": "n", "namespace": "ns"},
        "data": {"k": base64.b64encode(b"from-data").decode()},
        "stringData": {"k": "from-stringData"},
    }
    ss = ref.seal_secret(secret, kp.certificate)
    assert ref.unseal_value(kp.private_key, b"ns/n", ss["spec"]["encryptedData"]["k"]) == b"from-stringData"
