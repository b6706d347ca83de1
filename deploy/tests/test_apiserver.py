"""Optional: the chart against a real API server.

Runs only when SEALED_SECRETS_TEST_KUBECONFIG names a kubeconfig (never the ambient
KUBECONFIG) and kubectl is installed. Each case creates and removes its own namespace.
Cluster-scoped objects are only ever dry-run, except the SealedSecret CRD, which the
controller test applies (server-side, idempotent) as any install would. The rendered
chart is dry-run server-side; the namespaced RBAC is applied in the test namespace and
checked with SubjectAccessReviews; and, when the controller and kubeseal are built, the
real controller runs as the chart's ServiceAccount with the chart's flags.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, render_manifests

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
    assert ok(sa, "patch", "sealedsecrets", group="bitnami.com", subresource="status")
    assert not ok(sa, "update", "sealedsecrets", group="bitnami.com")
    for verb in ("get", "list", "watch", "create", "update"):
        assert ok(sa, verb, "secrets"), verb
    assert not ok(sa, "delete", "secrets")
    assert ok(sa, "create", "events")
    assert ok(sa, "patch", "events")
    assert not ok(sa, "delete", "events")
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


def _binary(env: str, name: str) -> str:
    explicit = os.environ.get(env)
    if explicit:
        return explicit
    built = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / name
    if not built.exists():
        pytest.skip(f"{name} not built (cargo build -p ...), or set {env}")
    return str(built)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, probe, attempts: int = 240):
    """Poll until probe() is truthy (eventual consistency, not a speed check)."""
    for _ in range(attempts):
        value = probe()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"gave up waiting for {what}")


@pytest.fixture()
def other_namespace():
    name = f"ss-tenant-{uuid.uuid4().hex[:8]}"
    created = kubectl("create", "namespace", name)
    assert created.returncode == 0, created.stderr
    try:
        yield name
    finally:
        kubectl("delete", "namespace", name, "--wait=false")


@pytest.mark.parametrize("variant", ["own-namespace", "additional-namespace-skip-recreate"])
def test_controller_works_with_only_the_namespaced_rbac(namespace, other_namespace, tmp_path, variant):
    """The real controller, out-of-cluster but as the chart's ServiceAccount (a token from
    the TokenRequest API), with exactly the chart's flags for a namespaced install: it
    makes its key, serves the certificate, unseals, writes status, and is never refused.
    The second variant unseals in an additional namespace (Role there, no ClusterRole:
    its `get namespaces` is Forbidden and must be tolerated) with --skip-recreate (no
    Secret list/watch granted there)."""
    controller = _binary("CONTROLLER_BIN", "controller")
    kubeseal = _binary("KUBESEAL_BIN", "kubeseal")
    crd = kubectl("apply", "--server-side", "--field-manager=sealed-secrets-test", "-f",
                  str(ROOT / "deploy" / "crds" / "sealedsecrets.bitnami.com.yaml"))
    assert crd.returncode == 0, crd.stderr
    kubectl("wait", "--for=condition=Established", "crd/sealedsecrets.bitnami.com", "--timeout=60s")

    values: dict = {"rbac": {"clusterRole": False, "namespacedRoles": True}}
    target = namespace
    if variant == "additional-namespace-skip-recreate":
        values |= {"additionalNamespaces": [other_namespace], "skipRecreate": True}
        target = other_namespace
    text = render_manifests.render(values, release="sealed-secrets", namespace=namespace)
    docs = [d for d in yaml.safe_load_all(text) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    objects = [d for d in docs if d["kind"] not in ("CustomResourceDefinition", "Deployment")]
    applied = kubectl("apply", "--server-side", "--field-manager=sealed-secrets-test", "-f", "-",
                      stdin=yaml.safe_dump_all(objects))
    assert applied.returncode == 0, applied.stderr

    token = kubectl("create", "token", "sealed-secrets-controller", "-n", namespace, "--duration=1h")
    if token.returncode != 0:
        pytest.skip(f"this API server issues no ServiceAccount tokens: {token.stderr.strip()}")
    admin = yaml.safe_load(Path(KUBECONFIG).read_text())
    cluster = admin["clusters"][0]["cluster"]
    sa_kubeconfig = tmp_path / "sa.kubeconfig"
    sa_kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "sa",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "sa", "user": {"token": token.stdout.strip()}}],
        "contexts": [{"name": "sa", "context": {"cluster": "c", "user": "sa", "namespace": namespace}}],
    }))

    http, metrics = _free_port(), _free_port()
    args = [a for a in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
            if not a.startswith(("--listen-addr=", "--listen-metrics-addr="))]
    assert "--all-namespaces=false" in args
    args += [f"--listen-addr=127.0.0.1:{http}", f"--listen-metrics-addr=127.0.0.1:{metrics}",
             f"--kubeconfig={sa_kubeconfig}"]
    log = tmp_path / "controller.log"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | {"POD_NAMESPACE": namespace}
    with open(log, "w") as out:
        proc = subprocess.Popen([controller, *args], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        def get(path: str) -> bytes | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http}{path}", timeout=5) as r:
                    return r.read()
            except OSError:
                assert proc.poll() is None, log.read_text()
                return None

        _wait("/healthz", lambda: get("/healthz"))
        cert = _wait("the certificate (the key the controller made)", lambda: get("/v1/cert.pem"))
        keys = kubectl("get", "secret", "-n", namespace, "-l", "sealedsecrets.bitnami.com/sealed-secrets-key",
                       "-o", "name")
        assert keys.stdout.strip(), "no key Secret in the controller's namespace"

        (tmp_path / "cert.pem").write_bytes(cert)
        secret = {"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": "db", "namespace": target},
                  "stringData": {"password": "not-a-real-password"}}
        sealed = subprocess.run([kubeseal, "--cert", str(tmp_path / "cert.pem"), "--format", "yaml"],
                                input=yaml.safe_dump(secret), capture_output=True, text=True)
        assert sealed.returncode == 0, sealed.stderr
        created = kubectl("apply", "-f", "-", stdin=sealed.stdout)
        assert created.returncode == 0, created.stderr

        def synced():
            run = kubectl("get", "sealedsecret", "db", "-n", target, "-o", "json")
            conditions = json.loads(run.stdout).get("status", {}).get("conditions", []) if run.returncode == 0 else []
            return any(c["type"] == "Synced" and c["status"] == "True" for c in conditions)

        _wait("SealedSecret db Synced=True", synced)
        got = kubectl("get", "secret", "db", "-n", target, "-o", "jsonpath={.data.password}")
        assert base64.b64decode(got.stdout) == b"not-a-real-password"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    output = log.read_text()
    # (The namespace check's 403 in a namespaced install is tolerated without a log line.)
    assert "forbidden" not in output.lower(), output

