"""The GitOps example tree deploy/flux/: every reference resolves, and the sealed values are
real (they unseal with the example key in fixtures/ to what their consumers read)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, render_docs

FLUX = ROOT / "deploy" / "flux"
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE_KEY = FIXTURES / "flux-example-DO-NOT-USE.key"
# Another example (SOPS) lives in deploy/flux/sops/ with its own tests.
OURS = ["clusters", "infrastructure", "apps", "notifications"]


def load_tree() -> list[tuple[Path, dict]]:
    out = []
    for sub in OURS:
        for path in sorted((FLUX / sub).rglob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                assert isinstance(doc, dict), f"{path}: not a mapping"
                out.append((path, doc))
    return out


TREE = load_tree()


def find(kind: str, name: str | None = None, namespace: str | None = None) -> list[dict]:
    return [
        d for _, d in TREE
        if d.get("kind") == kind
        and (name is None or d["metadata"]["name"] == name)
        and (namespace is None or d["metadata"].get("namespace") == namespace)
    ]  # fmt: skip


def only(kind: str, name: str | None = None, namespace: str | None = None) -> dict:
    found = find(kind, name, namespace)
    assert len(found) == 1, (kind, name, namespace, len(found))
    return found[0]


def kubeseal_bin() -> str:
    explicit = os.environ.get("KUBESEAL_BIN")
    if explicit:
        return explicit
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    built = target / "debug" / "kubeseal"
    if not built.exists():
        pytest.skip("kubeseal not built: cargo build -p kubeseal-cli (or set KUBESEAL_BIN)")
    return str(built)


def unseal(sealed: dict) -> dict[str, str]:
    """Data keys of the Secret our kubeseal recovers with the example key (values not kept)."""
    run = subprocess.run(
        [kubeseal_bin(), "--recovery-unseal", "--recovery-private-key", str(EXAMPLE_KEY), "--format", "yaml"],
        input=yaml.safe_dump(sealed), capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    secret = yaml.safe_load(run.stdout)
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == sealed["metadata"]["name"]
    assert secret["metadata"]["namespace"] == sealed["metadata"]["namespace"]
    return secret.get("data") or {}


def test_every_document_has_identity():
    assert TREE
    for path, doc in TREE:
        assert doc.get("apiVersion") and doc.get("kind"), path
        if doc["kind"] != "Kustomization" or "kustomize.toolkit.fluxcd.io" in doc["apiVersion"]:
            assert doc.get("metadata", {}).get("name"), path


def test_kustomizations_list_every_file_and_only_existing_ones():
    for path, doc in TREE:
        if doc["apiVersion"].startswith("kustomize.config.k8s.io/"):
            listed = set(doc["resources"])
            for res in listed:
                assert (path.parent / res).exists(), f"{path}: {res} does not exist"
            present = {p.name for p in path.parent.iterdir() if p.suffix == ".yaml" and p.name != "kustomization.yaml"}
            present |= {p.name for p in path.parent.iterdir() if p.is_dir()}
            assert present == listed, f"{path}: not listed {present - listed}"


def test_flux_kustomizations_point_into_the_tree_and_wait_for_the_controller():
    names = set()
    for doc in find("Kustomization"):
        if "kustomize.toolkit.fluxcd.io" not in doc["apiVersion"]:
            continue
        names.add(doc["metadata"]["name"])
        assert (ROOT / doc["spec"]["path"]).is_dir(), doc["spec"]["path"]
        if doc["metadata"]["name"] != "sealed-secrets":
            assert {"name": "sealed-secrets"} in doc["spec"]["dependsOn"], doc["metadata"]["name"]
    assert names == {"sealed-secrets", "apps", "notifications"}


def test_controller_helmrelease_installs_the_chart_so_plain_kubeseal_works():
    release = only("HelmRelease", "sealed-secrets-controller")
    spec = release["spec"]
    assert spec["install"]["crds"] == "Create"
    assert spec["upgrade"]["crds"] == "CreateReplace"
    chart = spec["chart"]["spec"]
    assert chart["chart"] == "sealed-secrets"
    assert chart["sourceRef"]["kind"] == "HelmRepository"
    only("HelmRepository", chart["sourceRef"]["name"], release["metadata"]["namespace"])
    # The release's values render with the real chart, and kubeseal's defaults find it.
    docs = render_docs(spec.get("values") or {}, release=spec["releaseName"], namespace=spec["targetNamespace"])
    svc = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "sealed-secrets-controller"]
    assert svc and svc[0]["metadata"]["namespace"] == "kube-system"
    assert svc[0]["spec"]["ports"][0]["name"] == "http"


def test_mariadb_reads_the_unsealed_secret():
    release = only("HelmRelease", "mariadb")
    ns = release["metadata"]["namespace"]
    only("Namespace", ns)
    secret_name = release["spec"]["values"]["auth"]["existingSecret"]
    sealed = only("SealedSecret", secret_name, ns)
    assert set(sealed["spec"]["encryptedData"]) == {
        "mariadb-root-password", "mariadb-password", "mariadb-replication-password"
    }  # fmt: skip
    data = unseal(sealed)
    assert set(data) == set(sealed["spec"]["encryptedData"])
    assert all(data.values()), "empty password"


def test_slack_provider_reads_the_unsealed_webhook_url():
    import base64

    provider = only("Provider", "slack")
    assert provider["spec"]["type"] == "slack"
    ns = provider["metadata"]["namespace"]
    sealed = only("SealedSecret", provider["spec"]["secretRef"]["name"], ns)
    assert sealed["metadata"]["name"] == "slack-url"
    data = unseal(sealed)
    assert set(data) == {"address"}
    assert base64.b64decode(data["address"]).decode().startswith("https://hooks.slack.com/services/")
    alert = only("Alert")
    assert alert["spec"]["providerRef"]["name"] == "slack"
    assert alert["metadata"]["namespace"] == ns


def test_sealed_values_do_not_unseal_with_another_key(tmp_path):
    """The check above can fail: a fresh key must not open the committed values."""
    other = tmp_path / "other.key"
    made = subprocess.run(
        [kubeseal_bin(), "keygen", "--key-size", "2048", "--key-out", str(other), "--cert-out", str(tmp_path / "c.crt")],
        capture_output=True, text=True,
    )
    assert made.returncode == 0, made.stderr
    sealed = only("SealedSecret", "slack-url")
    run = subprocess.run(
        [kubeseal_bin(), "--recovery-unseal", "--recovery-private-key", str(other)],
        input=yaml.safe_dump(sealed), capture_output=True, text=True,
    )
    assert run.returncode != 0 and "no key could decrypt secret" in run.stderr
