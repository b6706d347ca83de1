"""Interop tests: the Rust `kubeseal` binary against the Python reference.

The binary is `$KUBESEAL_BIN`, or `<repo>/target/debug/kubeseal`.  If it is
missing every test FAILS (it does not skip): run `cargo build -p kubeseal-cli`.

Run: python3 -m pytest tests/interop
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import sealed_secrets_ref as ref  # noqa: E402

REPO_ROOT = HERE.parents[1]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "kubeseal"
FINGERPRINT_ANNOTATION = "sealed-secrets-rs.io/key-fingerprint"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
NO_KEY_PREFIX = "error: no key could decrypt secret"
TIMEOUT = 120

NS, NAME = "prod", "app-credentials"
BINARY_VALUE = b"\xff\xfe\x00\x80\xc3\x28binary\x00\x01"  # not valid UTF-8

# ---------------------------------------------------------------------------
# Running the binary
# ---------------------------------------------------------------------------


def kubeseal_bin() -> Path:
    path = Path(os.environ.get("KUBESEAL_BIN") or DEFAULT_BIN)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"kubeseal binary not found or not executable at {path}. "
            "Build it first with `cargo build -p kubeseal-cli` "
            "(or point KUBESEAL_BIN at it).",
            pytrace=False,
        )
    return path


def run(args, stdin: bytes | None = None, expect_ok: bool = True) -> subprocess.CompletedProcess:
    cmd = [str(kubeseal_bin())] + [str(a) for a in args]
    proc = subprocess.run(cmd, input=stdin if stdin is not None else b"", capture_output=True, timeout=TIMEOUT)
    if expect_ok and proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(cmd)}` exited {proc.returncode}\nstderr:\n{proc.stderr.decode(errors='replace')}",
            pytrace=False,
        )
    return proc


def assert_no_key_error(proc: subprocess.CompletedProcess):
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == 1, f"expected exit 1, got {proc.returncode}; stderr: {stderr!r}"
    assert proc.stdout == b"", f"stdout must be empty on error, got {proc.stdout[:200]!r}"
    first = stderr.splitlines()[0] if stderr else ""
    assert first.startswith(NO_KEY_PREFIX), f"first stderr line: {first!r}"


def assert_generic_error(proc: subprocess.CompletedProcess):
    stderr = proc.stderr.decode(errors="replace")
    assert proc.returncode == 1, f"expected exit 1, got {proc.returncode}; stderr: {stderr!r}"
    assert proc.stdout == b"", f"stdout must be empty on error, got {proc.stdout[:200]!r}"
    assert stderr.startswith("error: "), f"stderr: {stderr!r}"


# ---------------------------------------------------------------------------
# Keys (session-scoped: RSA-4096 generation is slow-ish)
# ---------------------------------------------------------------------------


@dataclass
class KeyFiles:
    kp: ref.KeyPair
    cert: Path
    pkcs1: Path
    pkcs8: Path

    @property
    def private_key(self):
        return self.kp.private_key


def _write_key_files(directory: Path, stem: str, kp: ref.KeyPair) -> KeyFiles:
    cert, pkcs1, pkcs8 = directory / f"{stem}.crt", directory / f"{stem}.pem", directory / f"{stem}.pkcs8.pem"
    cert.write_bytes(kp.cert_pem)
    pkcs1.write_bytes(kp.key_pem_pkcs1)
    pkcs8.write_bytes(kp.key_pem_pkcs8)
    return KeyFiles(kp, cert, pkcs1, pkcs8)


@pytest.fixture(scope="session")
def keydir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def key_a(keydir) -> KeyFiles:
    return _write_key_files(keydir, "a", ref.make_key_pair(2048))


@pytest.fixture(scope="session")
def key_b(keydir) -> KeyFiles:
    return _write_key_files(keydir, "b", ref.make_key_pair(2048))


@pytest.fixture(scope="session")
def key_4096(keydir) -> KeyFiles:
    return _write_key_files(keydir, "big", ref.make_key_pair(4096))


class BinaryKeys:
    """Key pairs made by `kubeseal keygen`, generated on first use inside a test body."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.cache: dict[tuple, tuple[Path, Path]] = {}

    def get(self, *extra: str) -> tuple[Path, Path]:
        if extra not in self.cache:
            stem = "keygen" + "".join(re.sub(r"[^A-Za-z0-9]", "_", e) for e in extra)
            key, cert = self.directory / f"{stem}.key", self.directory / f"{stem}.crt"
            run(["keygen", "--key-out", key, "--cert-out", cert, *extra])
            self.cache[extra] = (key, cert)
        return self.cache[extra]


@pytest.fixture(scope="session")
def binary_keys(tmp_path_factory) -> BinaryKeys:
    return BinaryKeys(tmp_path_factory.mktemp("binkeys"))


# ---------------------------------------------------------------------------
# Test data and helpers
# ---------------------------------------------------------------------------


def make_secret(annotations: dict | None = None, namespace: str | None = NS, name: str = NAME) -> dict:
    meta: dict = {
        "name": name,
        "labels": {"app": "web", "tier": "backend"},
        "annotations": {
            "team": "payments",
            "example.com/note": "keep me",
            LAST_APPLIED: json.dumps({"apiVersion": "v1", "kind": "Secret", "data": {"password": "bGVhaw=="}}),
            **(annotations or {}),
        },
    }
    if namespace is not None:
        meta["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "Opaque",
        "data": {
            "password": base64.b64encode(b"hunter2").decode(),
            "binary": base64.b64encode(BINARY_VALUE).decode(),
            "empty-data": "",
        },
        "stringData": {
            "config.yaml": "user: ümlaut\nport: 5432\n",
            "empty-string": "",
        },
    }


def expected_plaintexts(secret: dict) -> dict[str, bytes]:
    return ref.secret_plaintexts(secret)


def dump(obj: dict, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(obj, indent=2).encode()
    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False).encode()


def parse_one(stdout: bytes, fmt: str) -> dict:
    text = stdout.decode("utf-8")
    if fmt == "json":
        return json.loads(text)
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert len(docs) == 1, f"expected one YAML document, got {len(docs)}"
    return docs[0]


B64_RE = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def decode_sealed(value: str) -> bytes:
    assert isinstance(value, str), f"sealed value must be a string, got {type(value).__name__}"
    assert B64_RE.match(value), f"not standard padded base64: {value[:40]!r}..."
    return base64.b64decode(value, validate=True)


def check_layout(raw: bytes, modulus_bytes: int, plaintext_len: int):
    assert raw[:2] == modulus_bytes.to_bytes(2, "big"), f"length prefix {raw[:2].hex()}"
    assert len(raw) == 2 + modulus_bytes + plaintext_len + 16


def normalize(obj):
    """Drop null values and empty maps/lists (e.g. `creationTimestamp: null`)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            v = normalize(v)
            if v is None or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(obj, list):
        return [normalize(v) for v in obj]
    return obj


def seal_with_binary(key: KeyFiles | Path, secret: dict, fmt: str, extra=()) -> dict:
    cert = key.cert if isinstance(key, KeyFiles) else key
    proc = run(["--cert", cert, "--format", fmt, *extra], stdin=dump(secret, fmt))
    return parse_one(proc.stdout, fmt)


def check_sealed_secret(
    ss: dict,
    secret: dict,
    keys: KeyFiles,
    scope: str,
    modulus_bytes: int,
    cli_scope: str | None = None,
    default_namespace: str | None = None,
):
    """Everything we can check about one SealedSecret produced by the binary."""
    reference = ref.seal_secret(secret, keys.kp.certificate, scope=cli_scope, default_namespace=default_namespace)
    name = reference["metadata"]["name"]
    namespace = reference["metadata"].get("namespace", "")

    assert ss["kind"] == "SealedSecret"
    assert ss["apiVersion"] == "bitnami.com/v1alpha1"
    meta = ss["metadata"]
    assert meta["name"] == name
    assert (meta.get("namespace") or "") == namespace

    # top-level annotations: scope annotation (if not strict) + key fingerprint, nothing else
    expected_annotations = ref.update_scope_annotations({}, scope)
    expected_annotations[FINGERPRINT_ANNOTATION] = ref.fingerprint(keys.kp.certificate)
    assert meta.get("annotations") == expected_annotations

    # template: same as the reference (upstream semantics), modulo null/empty fields,
    # plus the same fingerprint annotation as the top level (docs/format.md: with it in
    # both places upstream's /v1/rotate leaves the template alone)
    template = ss["spec"]["template"]
    expected_template = json.loads(json.dumps(reference["spec"]["template"]))
    expected_template["metadata"].setdefault("annotations", {})[FINGERPRINT_ANNOTATION] = expected_annotations[
        FINGERPRINT_ANNOTATION
    ]
    assert normalize(template) == normalize(expected_template)
    tmeta = template["metadata"]
    assert tmeta["name"] == name
    assert tmeta["labels"] == secret["metadata"]["labels"]
    assert LAST_APPLIED not in (tmeta.get("annotations") or {})
    for k, v in secret["metadata"]["annotations"].items():
        if k != LAST_APPLIED and not k.startswith("sealedsecrets.bitnami.com/"):
            assert tmeta["annotations"][k] == v
    assert template.get("type") == secret.get("type")

    # every value: base64, layout, decrypts with the right label only
    expected = expected_plaintexts(secret)
    encrypted = ss["spec"]["encryptedData"]
    assert set(encrypted) == set(expected)
    right = ref.label(scope, namespace, name)
    wrong = {ref.label(s, namespace, name) for s in ref.SCOPES} - {right}
    for key, value in encrypted.items():
        raw = decode_sealed(value)
        check_layout(raw, modulus_bytes, len(expected[key]))
        assert ref.unseal_value([keys.private_key], right, value) == expected[key], key
        for lbl in wrong:
            with pytest.raises(ref.UnsealError):
                ref.unseal_value([keys.private_key], lbl, value)


def recovery_unseal(key_args, sealed: dict, fmt: str | None = None, expect_ok: bool = True):
    args = ["--recovery-unseal"]
    for k in key_args:
        args += ["--recovery-private-key", k]
    if fmt:
        args += ["--format", fmt]
    return run(args, stdin=json.dumps(sealed).encode(), expect_ok=expect_ok)


def secret_data(secret: dict) -> dict[str, bytes]:
    assert secret["apiVersion"] == "v1"
    assert secret["kind"] == "Secret"
    return {k: base64.b64decode(v, validate=True) for k, v in (secret.get("data") or {}).items()}


# ---------------------------------------------------------------------------
# 0. The binary exists
# ---------------------------------------------------------------------------


def test_binary_present():
    kubeseal_bin()


# ---------------------------------------------------------------------------
# 1. Our seal -> Python unseal
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("scope", ref.SCOPES)
def test_seal_scope_from_annotation(key_a, scope, fmt):
    secret = make_secret(ref.update_scope_annotations({}, scope))
    ss = seal_with_binary(key_a, secret, fmt)
    check_sealed_secret(ss, secret, key_a, scope, 256)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("scope", ref.SCOPES)
def test_seal_scope_from_flag(key_a, scope, fmt):
    secret = make_secret()
    ss = seal_with_binary(key_a, secret, fmt, extra=["--scope", scope])
    check_sealed_secret(ss, secret, key_a, scope, 256, cli_scope=scope)


def test_seal_4096(key_4096):
    secret = make_secret()
    ss = seal_with_binary(key_4096, secret, "json")
    check_sealed_secret(ss, secret, key_4096, "strict", 512)
    raw = base64.b64decode(ss["spec"]["encryptedData"]["password"])
    assert raw[:2] == b"\x02\x00"


def test_seal_namespace_from_flag(key_a):
    """A Secret without a namespace takes it from -n (upstream: the default namespace)."""
    secret = make_secret(namespace=None)
    ss = seal_with_binary(key_a, secret, "json", extra=["-n", "team-a"])
    assert ss["metadata"]["namespace"] == "team-a"
    check_sealed_secret(ss, secret, key_a, "strict", 256, default_namespace="team-a")


def test_seal_string_data_wins_over_data(key_a):
    """As in Kubernetes (and upstream), stringData overrides data for the same key."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": NS},
        "data": {"k": base64.b64encode(b"from-data").decode()},
        "stringData": {"k": "from-stringData"},
    }
    ss = seal_with_binary(key_a, secret, "json")
    assert set(ss["spec"]["encryptedData"]) == {"k"}
    value = ss["spec"]["encryptedData"]["k"]
    assert ref.unseal_value([key_a.private_key], ref.label("strict", NS, NAME), value) == b"from-stringData"


def test_seal_uses_fresh_session_keys(key_a):
    """Same plaintext twice (two keys, two runs) never gives the same ciphertext."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": NS},
        "stringData": {"one": "same", "two": "same"},
    }
    first = seal_with_binary(key_a, secret, "json")["spec"]["encryptedData"]
    second = seal_with_binary(key_a, secret, "json")["spec"]["encryptedData"]
    values = [first["one"], first["two"], second["one"], second["two"]]
    assert len(set(values)) == 4
    gcm_parts = {base64.b64decode(v)[2 + 256 :] for v in values}
    assert len(gcm_parts) == 4, "GCM parts repeat: session key reused with the fixed zero nonce"


# ---------------------------------------------------------------------------
# 2. Python seal -> our recovery unseal
# ---------------------------------------------------------------------------

KEY_FORMS = ["pkcs1", "pkcs8", "two-flags-second-right", "comma-list-second-right"]


def key_args_for(form: str, right: KeyFiles, wrong: KeyFiles) -> list:
    if form == "pkcs1":
        return [right.pkcs1]
    if form == "pkcs8":
        return [right.pkcs8]
    if form == "two-flags-second-right":
        return [wrong.pkcs1, right.pkcs1]
    if form == "comma-list-second-right":
        return [f"{wrong.pkcs1},{right.pkcs8}"]
    raise AssertionError(form)


def check_unsealed(secret_out: dict, secret_in: dict, sealed: dict):
    assert secret_data(secret_out) == expected_plaintexts(secret_in)
    assert secret_out["metadata"]["name"] == sealed["metadata"]["name"]
    assert (secret_out["metadata"].get("namespace") or "") == (sealed["metadata"].get("namespace") or "")
    assert secret_out.get("type") == secret_in.get("type")
    assert secret_out["metadata"].get("labels") == secret_in["metadata"].get("labels")
    assert "stringData" not in secret_out


@pytest.mark.parametrize("form", KEY_FORMS)
@pytest.mark.parametrize("scope", ref.SCOPES)
def test_recovery_unseal_python_sealed(key_a, key_b, scope, form):
    secret = make_secret(ref.update_scope_annotations({}, scope))
    sealed = ref.seal_secret(secret, key_a.kp.certificate)
    proc = recovery_unseal(key_args_for(form, key_a, key_b), sealed)
    check_unsealed(json.loads(proc.stdout), secret, sealed)


def test_recovery_unseal_yaml_output(key_a):
    secret = make_secret()
    sealed = ref.seal_secret(secret, key_a.kp.certificate)
    proc = recovery_unseal([key_a.pkcs1], sealed, fmt="yaml")
    check_unsealed(parse_one(proc.stdout, "yaml"), secret, sealed)


def test_recovery_unseal_4096(key_4096, key_a):
    secret = make_secret(ref.update_scope_annotations({}, "namespace-wide"))
    sealed = ref.seal_secret(secret, key_4096.kp.certificate)
    proc = recovery_unseal([key_a.pkcs1, key_4096.pkcs8], sealed)
    check_unsealed(json.loads(proc.stdout), secret, sealed)


def test_round_trip_binary_seal_binary_unseal(key_a):
    """Sanity: our seal output goes through our recovery unseal (fingerprint annotation ignored)."""
    secret = make_secret(ref.update_scope_annotations({}, "namespace-wide"))
    ss = seal_with_binary(key_a, secret, "json")
    proc = recovery_unseal([key_a.pkcs1], ss)
    assert secret_data(json.loads(proc.stdout)) == expected_plaintexts(secret)


# ---------------------------------------------------------------------------
# 3. Our keygen
# ---------------------------------------------------------------------------


def load_binary_key_pair(key_path: Path, cert_path: Path):
    key_pem = key_path.read_bytes()
    assert key_pem.lstrip().startswith(b"-----BEGIN RSA PRIVATE KEY-----"), "private key must be PKCS#1 PEM"
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    cert_pem = cert_path.read_bytes()
    assert cert_pem.lstrip().startswith(b"-----BEGIN CERTIFICATE-----")
    cert = x509.load_pem_x509_certificate(cert_pem)
    return key, cert


def check_controller_certificate(key, cert, bits: int, cn: str | None, ttl: datetime.timedelta):
    assert cert.version == x509.Version.v3
    if cn is None:
        assert len(cert.subject) == 0, f"subject should be empty, got {cert.subject.rfc4514_string()}"
        assert len(cert.issuer) == 0, f"issuer should be empty, got {cert.issuer.rfc4514_string()}"
    else:
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == cn
        assert cert.issuer == cert.subject
    assert cert.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.11", "want sha256WithRSAEncryption"
    assert 0 < cert.serial_number < 2**128

    pub = cert.public_key()
    assert isinstance(pub, rsa.RSAPublicKey)
    assert pub.key_size == bits
    assert key.key_size == bits
    assert pub.public_numbers() == key.private_numbers().public_numbers, "certificate does not match the key"
    pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256())

    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    now = datetime.datetime.now(datetime.timezone.utc)
    assert now - datetime.timedelta(days=2) <= not_before <= now + datetime.timedelta(minutes=5)
    assert abs((not_after - not_before) - ttl) <= datetime.timedelta(days=1), f"validity {not_after - not_before}"

    exts = ref.certificate_extensions(cert)
    assert "2.5.29.15" in exts, "KeyUsage missing"
    ku_critical, ku = exts["2.5.29.15"]
    assert ku_critical, "KeyUsage must be critical"
    assert ref.key_usage_names(ku) == {"encipher_only"}
    assert "2.5.29.19" in exts, "BasicConstraints missing"
    bc_critical, bc = exts["2.5.29.19"]
    assert bc_critical, "BasicConstraints must be critical"
    assert ref.basic_constraints(bc)[0] is True, "BasicConstraints CA must be TRUE"


def test_keygen_default_shape(binary_keys):
    key_path, cert_path = binary_keys.get()
    key, cert = load_binary_key_pair(key_path, cert_path)
    check_controller_certificate(key, cert, 4096, None, datetime.timedelta(hours=87600))


def test_keygen_options(binary_keys):
    key_path, cert_path = binary_keys.get("--key-size", "2048", "--my-cn", "sealed-secrets-test", "--key-ttl", "720h")
    key, cert = load_binary_key_pair(key_path, cert_path)
    check_controller_certificate(key, cert, 2048, "sealed-secrets-test", datetime.timedelta(hours=720))


def test_keygen_key_sizes(binary_keys):
    key_path, cert_path = binary_keys.get("--key-size", "3072")
    key, cert = load_binary_key_pair(key_path, cert_path)
    check_controller_certificate(key, cert, 3072, None, datetime.timedelta(hours=87600))


def test_keygen_fresh_keys(binary_keys):
    _, cert1 = binary_keys.get("--key-size", "2048")
    _, cert2 = binary_keys.get("--key-size", "2048", "--key-ttl", "87600h")
    c1 = x509.load_pem_x509_certificate(cert1.read_bytes())
    c2 = x509.load_pem_x509_certificate(cert2.read_bytes())
    assert c1.public_key().public_numbers() != c2.public_key().public_numbers()
    assert c1.serial_number != c2.serial_number


def test_keygen_python_seal_binary_unseal(binary_keys):
    key_path, cert_path = binary_keys.get()
    _, cert = load_binary_key_pair(key_path, cert_path)
    for scope in ref.SCOPES:
        secret = make_secret(ref.update_scope_annotations({}, scope))
        sealed = ref.seal_secret(secret, cert)
        raw = base64.b64decode(sealed["spec"]["encryptedData"]["password"])
        assert raw[:2] == b"\x02\x00"
        proc = recovery_unseal([key_path], sealed)
        check_unsealed(json.loads(proc.stdout), secret, sealed)


def test_keygen_binary_seal_python_unseal(binary_keys):
    key_path, cert_path = binary_keys.get()
    key, cert = load_binary_key_pair(key_path, cert_path)
    keys = KeyFiles(ref.KeyPair(key, cert), cert_path, key_path, key_path)
    for scope in ref.SCOPES:
        secret = make_secret(ref.update_scope_annotations({}, scope))
        ss = seal_with_binary(cert_path, secret, "json")
        check_sealed_secret(ss, secret, keys, scope, 512)


# ---------------------------------------------------------------------------
# 4. Raw mode
# ---------------------------------------------------------------------------

RAW_CASES = [
    ("strict", True, True),
    ("namespace-wide", True, True),  # the name must not enter the label
    ("namespace-wide", False, True),
    ("cluster-wide", False, False),
    ("cluster-wide", True, True),  # name and namespace must not enter the label
]


@pytest.mark.parametrize("scope,with_name,with_ns", RAW_CASES)
def test_raw_mode(key_a, tmp_path, scope, with_name, with_ns):
    payload = b"raw \x00\xff payload \xe2\x82\xac\n"
    path = tmp_path / "value.bin"
    path.write_bytes(payload)
    args = ["--raw", "--cert", key_a.cert, "--scope", scope]
    if with_name:
        args += ["--name", NAME]
    if with_ns:
        args += ["--namespace", NS]
    args += ["--from-file", path]
    proc = run(args)
    out = proc.stdout
    assert not out.endswith(b"\n"), "raw output must have no trailing newline"
    value = out.decode("ascii")
    raw = decode_sealed(value)
    check_layout(raw, 256, len(payload))
    right = ref.label(scope, NS, NAME)
    assert ref.unseal_value([key_a.private_key], right, value) == payload
    for other in set(ref.SCOPES) - {scope}:
        with pytest.raises(ref.UnsealError):
            ref.unseal_value([key_a.private_key], ref.label(other, NS, NAME), value)


# ---------------------------------------------------------------------------
# 5. Negative cases
# ---------------------------------------------------------------------------


def _sealed_with_label(keys: KeyFiles, lbl: bytes, scope: str, namespace=NS, name=NAME, template_annotations=None):
    """A SealedSecret whose top-level metadata says (namespace, name, scope) but whose values use `lbl`."""
    meta: dict = {"name": name, "namespace": namespace}
    annotations = ref.update_scope_annotations({}, scope)
    if annotations:
        meta["annotations"] = annotations
    tmeta: dict = {"name": name, "namespace": namespace}
    if template_annotations:
        tmeta["annotations"] = template_annotations
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": meta,
        "spec": {
            "template": {"metadata": tmeta, "type": "Opaque"},
            "encryptedData": {"password": ref.seal_value(keys.kp.certificate, lbl, b"hunter2")},
        },
    }


WRONG_LABEL_CASES = {
    "other-namespace": (lambda: ref.label("strict", "other", NAME), "strict"),
    "other-name": (lambda: ref.label("strict", NS, "other"), "strict"),
    "strict-label-namespace-wide-object": (lambda: ref.label("strict", NS, NAME), "namespace-wide"),
    "namespace-wide-label-strict-object": (lambda: ref.label("namespace-wide", NS, NAME), "strict"),
    "namespace-wide-label-other-namespace": (lambda: ref.label("namespace-wide", "other", NAME), "namespace-wide"),
    "cluster-wide-label-strict-object": (lambda: ref.label("cluster-wide", NS, NAME), "strict"),
    "strict-label-cluster-wide-object": (lambda: ref.label("strict", NS, NAME), "cluster-wide"),
}


@pytest.mark.parametrize("case", sorted(WRONG_LABEL_CASES))
def test_wrong_label_rejected(key_a, case):
    make_label, object_scope = WRONG_LABEL_CASES[case]
    sealed = _sealed_with_label(key_a, make_label(), object_scope)
    assert_no_key_error(recovery_unseal([key_a.pkcs1], sealed, expect_ok=False))


def test_scope_read_from_top_level_metadata_only(key_a):
    """Template annotations say cluster-wide, top level says strict: the empty label must not be accepted."""
    sealed = _sealed_with_label(
        key_a, b"", "strict", template_annotations=ref.update_scope_annotations({}, "cluster-wide")
    )
    assert_no_key_error(recovery_unseal([key_a.pkcs1], sealed, expect_ok=False))
    # and the converse works: top-level cluster-wide, template silent
    ok = _sealed_with_label(key_a, b"", "cluster-wide")
    proc = recovery_unseal([key_a.pkcs1], ok)
    assert secret_data(json.loads(proc.stdout)) == {"password": b"hunter2"}


def test_wrong_key_rejected(key_a, key_b):
    sealed = ref.seal_secret(make_secret(), key_b.kp.certificate)
    assert_no_key_error(recovery_unseal([key_a.pkcs1], sealed, expect_ok=False))
    assert_no_key_error(recovery_unseal([key_a.pkcs8], sealed, expect_ok=False))


def _tampered(keys: KeyFiles, where: str) -> dict:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": NS},
        "stringData": {"good": "fine", "bad": "payload to tamper with"},
    }
    sealed = ref.seal_secret(secret, keys.kp.certificate)
    raw = bytearray(base64.b64decode(sealed["spec"]["encryptedData"]["bad"]))
    modulus = int.from_bytes(raw[:2], "big")
    if where == "rsa":
        raw[2 + modulus // 2] ^= 0x01
    elif where == "gcm-ciphertext":
        raw[2 + modulus + 3] ^= 0x01
    elif where == "gcm-tag":
        raw[-1] ^= 0x80
    else:
        raise AssertionError(where)
    sealed["spec"]["encryptedData"]["bad"] = base64.b64encode(bytes(raw)).decode()
    # the Python reference agrees that it no longer opens
    with pytest.raises(ref.UnsealError):
        ref.unseal_value([keys.private_key], ref.label("strict", NS, NAME), sealed["spec"]["encryptedData"]["bad"])
    return sealed


@pytest.mark.parametrize("where", ["rsa", "gcm-ciphertext", "gcm-tag"])
def test_tampered_value_rejected(key_a, key_b, where):
    sealed = _tampered(key_a, where)
    assert_no_key_error(recovery_unseal([key_a.pkcs1], sealed, expect_ok=False))
    # same single error when several keys are tried
    assert_no_key_error(recovery_unseal([key_b.pkcs1, key_a.pkcs1], sealed, expect_ok=False))


def test_malformed_value_is_an_error(key_a):
    sealed = _sealed_with_label(key_a, ref.label("strict", NS, NAME), "strict")
    sealed["spec"]["encryptedData"]["password"] = "%%% not base64 %%%"
    assert_generic_error(recovery_unseal([key_a.pkcs1], sealed, expect_ok=False))
