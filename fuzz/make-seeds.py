#!/usr/bin/env python3
"""Writes the small seed corpus under fuzz/seeds/<target>/ (committed; rerun to refresh).

Valid inputs let the fuzzer reach the code past the first checks: sealed values that
open under the test key, ENC[...] values that decrypt under the test data key, sops
files the real sops wrote. Needs python3 with `cryptography`.
"""
import base64
import json
import os
import pathlib
import shutil

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
SEEDS = FUZZ / "seeds"
VECTORS = ROOT / "crates/sealed-secrets-sops/tests/vectors"


def write(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def seal(public_key, label, plaintext):
    """The sealed-secrets wire format: u16be(len R) || R || AES-GCM(zero nonce)."""
    session = os.urandom(32)
    rsa = public_key.encrypt(
        session,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label),
    )
    gcm = AESGCM(session).encrypt(b"\0" * 12, plaintext, None)
    return len(rsa).to_bytes(2, "big") + rsa + gcm


def unseal_seeds():
    key = serialization.load_pem_private_key(
        (ROOT / "crates/sealed-secrets-core/testdata/key-a.pem").read_bytes(), None
    )
    pub = key.public_key()
    for name, label, value in [
        ("strict", b"default/db-password", b"hunter2"),
        ("namespace-wide", b"default", b""),
        ("cluster-wide", b"", b"x" * 100),
    ]:
        write("unseal", name, bytes([len(label)]) + label + seal(pub, label, value))
    write("unseal", "short", b"\x00\x01\x00")


def documents_seeds():
    write("documents", "secret.yaml", (ROOT / "examples/mariadb-secret.yaml").read_text())
    sealed = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {
            "name": "db",
            "namespace": "default",
            "annotations": {"sealedsecrets.bitnami.com/namespace-wide": "true"},
        },
        "spec": {
            "encryptedData": {"password": "AgBy3i4OJSWK+PiTySYZZA=="},
            "template": {
                "type": "Opaque",
                "metadata": {"labels": {"app": "db"}, "creationTimestamp": None},
                "data": {"url": "postgres://{{ .user }}:{{ .password }}@db"},
            },
        },
    }
    import json

    write("documents", "sealed.json", json.dumps(sealed, indent=2))
    write(
        "documents",
        "stream.yaml",
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {k: v}\n"
        "---\n---\nkind: SealedSecret\napiVersion: bitnami.com/v1alpha1\n"
        "metadata:\n  name: b\n  namespace: ns\nspec:\n  encryptedData:\n    k: AgA=\n",
    )
    write("documents", "values.json", '{"kind":"Secret","data":{"a":"YQ=="}} [1, 2.5, null]')


def template_seeds():
    for i, t in enumerate(
        [
            "{{ .user }}:{{ .password | b64enc }}",
            '{{ if eq .user "admin" }}{{ .password | quote }}{{ else }}none{{ end }}',
            "{{- with .missing }}{{ . }}{{ else }}{{ default \"d\" .missing }}{{ end -}}",
            '{{ printf "%s=%q %x" .user .password .binary }} {{ index . "dotted.key-name" }}',
            "{{ .password | nindent 4 | trim | upper | sha256sum }} {{ repeat 3 .n }}",
            "{{/* comment */}}{{ (b64dec .b64) }} {{ len .binary }} {{ toJson .password }}",
        ]
    ):
        write("template", f"t{i}", t)
    # Every 6th template of the Go-recorded corpus: the whole language and most
    # Sprig functions, for the fuzzer to start from.
    corpus = json.loads((ROOT / "crates/sealed-secrets/tests/template-corpus.json").read_text())
    for i, case in enumerate(corpus["cases"][::6]):
        write("template", f"c{i}", case["template"])


def sops_value_seeds():
    key = bytes([7] * 32)
    aad = b"data:password:"
    b64 = lambda b: base64.b64encode(b).decode()
    for typ, plain, iv_len in [
        ("str", b"hunter2", 32),
        ("int", b"-42", 32),
        ("float", b"2.5", 32),
        ("bool", b"True", 32),
        ("time", b"2024-01-01T00:00:00Z", 32),
        ("comment", b" a comment", 32),
        ("str", b"twelve-byte iv", 12),
    ]:
        iv = os.urandom(iv_len)
        out = AESGCM(key).encrypt(iv, plain, aad)
        text = f"ENC[AES256_GCM,data:{b64(out[:-16])},iv:{b64(iv)},tag:{b64(out[-16:])},type:{typ}]"
        write("sops_value", f"{typ}-{iv_len}", text)


def sops_file_seeds():
    # mode byte: bits 0-1 format (yaml, json, dotenv, binary), bit 2 encrypted.
    for mode, name in [
        (0, "secret.yaml"),
        (1, "config.json"),
        (2, "app.env"),
        (3, "blob.bin"),
        (4, "secret.sops.yaml"),
        (4, "regex.sops.yaml"),
        (5, "config.sops.json"),
        (6, "app.sops.env"),
        (7, "blob.sops.bin"),
    ]:
        write("sops_file", name, bytes([mode]) + (VECTORS / name).read_bytes())
    write(
        "sops_file",
        "anchors.yaml",
        b"\x00# top\nbase: &b {a: 1, b: [x, 'y', !!binary aGk=]}\nuse: *b\n"
        b"list:\n    - 1.5\n    - .nan\n    - 2001-12-14t21:59:43.10-05:00\n    - |\n        multi\n        line\n",
    )


if __name__ == "__main__":
    shutil.rmtree(SEEDS, ignore_errors=True)
    unseal_seeds()
    documents_seeds()
    template_seeds()
    sops_value_seeds()
    sops_file_seeds()
