"""Optional: the rendered chart, server-side dry-run against a real API server.

Runs only when SEALED_SECRETS_TEST_KUBECONFIG names a kubeconfig (never the ambient
KUBECONFIG) and kubectl is installed. Each case creates and removes its own namespace;
nothing but that namespace is ever persisted (everything else is `--dry-run=server`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid

import pytest
import yaml

from conftest import render_manifests

KUBECONFIG = os.environ.get("SEALED_SECRETS_TEST_KUBECONFIG", "")
KUBECTL = shutil.which("kubectl")

pytestmark = [
    pytest.mark.skipif(not KUBECONFIG, reason="SEALED_SECRETS_TEST_KUBECONFIG is not set"),
    pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed"),
]


def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", KUBECONFIG, *args],
        input=stdin, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture()
def namespace():
    name = f"ss-chart-{uuid.uuid4().hex[:8]}"
    created = kubectl("create", "namespace", name)
    assert created.returncode == 0, created.stderr
    try:
        yield name
    finally:
        kubectl("delete", "namespace", name, "--wait=false")


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"rbac": {"clusterRole": False, "namespacedRoles": True}},
        {"pdb": {"create": True}, "networkPolicy": {"enabled": True}, "oldGcBehavior": True},
    ],
    ids=["default", "namespaced", "pdb-networkpolicy"],
)
def test_server_accepts_the_rendered_chart(namespace, values):
    # Cluster-scoped names carry the namespace so parallel runs never clash.
    values = {**values, "fullnameOverride": f"sealed-secrets-{namespace}"}
    text = render_manifests.render(values, release="sealed-secrets", namespace=namespace)
    applied = kubectl(
        "apply", "--server-side", "--dry-run=server", "--field-manager=sealed-secrets-test", "-f", "-",
        stdin=text,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for kind in ("deployment.apps", "service", "serviceaccount", "role.rbac.authorization.k8s.io"):
        assert kind in applied.stdout, applied.stdout


def allowed(namespace: str, user: str, groups: list[str], verb: str, resource: str, *,
            group: str = "", subresource: str = "", name: str = "") -> bool:
    """Ask the API server's authorizer (a SubjectAccessReview: exact group and
    subresource, no client-side discovery involved)."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "groups": groups,
            "resourceAttributes": {
                "namespace": namespace, "verb": verb, "group": group, "resource": resource,
                "subresource": subresource, "name": name,
            },
        },
    }
    run = kubectl("create", "-o", "json", "-f", "-", stdin=json.dumps(review))
    assert run.returncode == 0, run.stderr
    return bool(json.loads(run.stdout)["status"].get("allowed"))


def test_namespaced_rbac_grants_what_it_should_and_nothing_more(namespace):
    """Namespaced install applied for real into the test namespace (no cluster-scoped
    object is created), then the API server's own authorizer is asked."""
    values = {"rbac": {"clusterRole": False, "namespacedRoles": True}, "createController": False}
    text = render_manifests.render(values, release="sealed-secrets", namespace=namespace)
    docs = [d for d in yaml.safe_load_all(text) if d and d["kind"] != "CustomResourceDefinition"]
    assert not [d for d in docs if d["kind"].startswith("Cluster")]
    applied = kubectl("apply", "--server-side", "--field-manager=sealed-secrets-test", "-f", "-",
                      stdin=yaml.safe_dump_all(docs))
    assert applied.returncode == 0, applied.stdout + applied.stderr

    sa = (f"system:serviceaccount:{namespace}:sealed-secrets-controller",
          ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"])
    user = ("someone", ["system:authenticated"])
    svc = "sealed-secrets-controller"

    def ok(who, verb, resource, ns=namespace, **kw):
        return allowed(ns, who[0], who[1], verb, resource, **kw)

    # The RBAC authorizer reads from an informer cache: wait until the bindings are seen.
    for _ in range(60):
        if ok(sa, "get", "sealedsecrets", group="bitnami.com") and ok(user, "get", "services", name=svc):
            break
        time.sleep(0.5)
    for verb in ("get", "list", "watch"):
        assert ok(sa, verb, "sealedsecrets", group="bitnami.com")
    assert ok(sa, "update", "sealedsecrets", group="bitnami.com", subresource="status")
    assert not ok(sa, "update", "sealedsecrets", group="bitnami.com")
    for verb in ("get", "list", "watch", "create", "update"):
        assert ok(sa, verb, "secrets"), verb
    assert not ok(sa, "delete", "secrets")
    assert ok(sa, "create", "events")
    assert not ok(sa, "patch", "events")
    assert not ok(sa, "list", "secrets", ns="default"), "namespaced install reached another namespace"
    assert not ok(sa, "create", "pods")

    for name in (f"http:{svc}:", f"http:{svc}:http", svc):
        assert ok(user, "get", "services", subresource="proxy", name=name), name
        assert ok(user, "create", "services", subresource="proxy", name=name), name
    assert ok(user, "get", "services", name=svc)
    assert not ok(user, "get", "services", subresource="proxy", name="http:other:")
    assert not ok(user, "get", "services", name="other")
    assert not ok(user, "list", "secrets")
    assert not ok(("system:anonymous", ["system:unauthenticated"]), "get", "services", name=svc)
