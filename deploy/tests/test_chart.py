"""The Helm chart, linted and rendered by Helm v4 itself (helm-python-sdk), with several value sets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from conftest import CHART, ROOT, render_docs, render_manifests

# Every flag of the controller (docs/compatibility.md, controller contract); the chart
# must never pass anything else, or the controller refuses to start.
CONTROLLER_FLAGS = {
    "key-prefix", "key-size", "key-ttl", "my-cn", "key-renew-period", "rotate-period",
    "key-order-priority", "accept-deprecated-v1-data", "key-cutoff-time", "all-namespaces",
    "additional-namespaces", "label-selector", "rate-limit", "rate-limit-burst",
    "privatekey-annotations", "privatekey-labels", "old-gc-behavior", "update-status",
    "watch-for-secrets", "skip-recreate", "log-info-stdout", "log-level", "log-format",
    "max-unseal-retries", "kubeclient-qps", "kubeclient-burst", "listen-addr",
    "listen-metrics-addr", "read-timeout", "write-timeout", "kubeconfig", "leader-elect",
    "leader-elect-lease-name", "leader-elect-lease-duration", "leader-elect-renew-deadline",
    "leader-elect-retry-period",
}  # fmt: skip

CLUSTER_SCOPED = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Namespace"}

# name -> (values, release, namespace, expected Service name, expected first port name)
VALUE_SETS = {
    "default": ({}, "sealed-secrets-controller", "kube-system", "sealed-secrets-controller", "http"),
    "namespaced": (
        {
            "rbac": {"clusterRole": False, "namespacedRoles": True},
            "additionalNamespaces": ["team-a", "team-b", "tenant-x", "team-a"],
        },
        "sealed-secrets", "tenant-x", "sealed-secrets-controller", "http",
    ),
    "everything-on": (
        {
            "metrics": {"serviceMonitor": {"enabled": True, "interval": "30s", "labels": {"release": "prom"}}},
            "pdb": {"create": True},
            "networkPolicy": {
                "enabled": True,
                "metricsFrom": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}],
                "egress": {"enabled": True, "kubeapiCidr": "10.96.0.1/32", "kubeapiPort": 443},
            },
            "commonLabels": {"team": "platform"},
            "commonAnnotations": {"owner": "platform@example.invalid"},
            "privateKeyAnnotations": {"backup.example/keep": "true"},
            "privateKeyLabels": {"env": "prod", "tier": "keys"},
            "keycutofftime": "Mon, 02 Jan 2006 15:04:05 -0700",
            "keyttl": "43800h",
            "keysize": 3072,
            "mycn": "sealed-secrets prod",
            "keyOrderPriority": "SecretCreationTimestamp",
            "rateLimit": 5,
            "rateLimitBurst": 10,
            "maxRetries": 3,
            "kubeClientQPS": 20,
            "kubeClientBurst": 40,
            "labelSelector": "shard=a",
            "logFormat": "json",
            "logLevel": "debug",
            "logInfoStdout": False,
            "oldGcBehavior": True,
            "updateStatus": False,
            "additionalNamespaces": ["payments"],
            "image": {"digest": "sha256:" + "ab" * 32},
            "extraArgs": ["--accept-deprecated-v1-data=false"],
            "extraEnvVars": [{"name": "RUST_BACKTRACE", "value": "1"}],
            "podAnnotations": {"prometheus.io/scrape": "false"},
        },
        "ss", "security", "sealed-secrets-controller", "http",
    ),
    "renamed": (
        {
            "fullnameOverride": "my-sealer",
            "service": {"ports": {"name": "api", "http": 9000}},
            "containerPorts": {"http": 9080, "metrics": 9081},
            "rbac": {"clusterRoleName": "my-sealer-cluster-wide"},
        },
        "whatever", "platform", "my-sealer", "api",
    ),
    "bitnami-migration": (
        # What a HelmRelease for Bitnami's chart typically carries.
        {
            "fullnameOverride": "sealed-secrets-controller",
            "secretName": "sealed-secrets-key",
            "keyrenewperiod": "0",
            "updateStatus": True,
            "skipRecreate": True,
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
            "podSecurityContext": {"enabled": True, "fsGroup": 65534},
            "containerSecurityContext": {"enabled": True, "readOnlyRootFilesystem": True, "runAsNonRoot": True},
        },
        "sealed-secrets", "kube-system", "sealed-secrets-controller", "http",
    ),
    "no-rbac": (
        {"rbac": {"create": False}, "serviceAccount": {"create": False, "name": "preexisting"}},
        "sealed-secrets-controller", "kube-system", "sealed-secrets-controller", "http",
    ),
}  # fmt: skip


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in by_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {[d['metadata']['name'] for d in found]}"
    return found[0]


def deployment_args(docs: list[dict]) -> list[str]:
    return one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def case(request):
    values, release, namespace, service, port = VALUE_SETS[request.param]
    return {
        "name": request.param,
        "values": values,
        "release": release,
        "namespace": namespace,
        "service": service,
        "port": port,
        "docs": render_docs(values, release=release, namespace=namespace),
        "text": render_manifests.render(values, release=release, namespace=namespace),
    }


def test_helm_v4_is_what_renders():
    assert helm.helm_sdk_version().startswith("v4."), helm.helm_sdk_version()


def test_lint_is_clean(case):
    report = helm.lint(str(CHART), case["values"], strict=True, namespace=case["namespace"])
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == [], report


def test_every_document_is_a_complete_object(case):
    assert case["docs"], "nothing rendered"
    for doc in case["docs"]:
        assert isinstance(doc, dict), doc
        assert doc.get("apiVersion") and doc.get("kind"), doc
        meta = doc.get("metadata") or {}
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", meta.get("name", "")), meta
        if doc["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in meta, doc["kind"]
        else:
            assert meta.get("namespace"), f"{doc['kind']} {meta['name']} has no namespace"


def test_rbac_has_no_wildcards_and_only_known_verbs(case):
    allowed_verbs = {"get", "list", "watch", "create", "update", "patch", "delete"}
    for doc in case["docs"]:
        if doc["kind"] not in ("Role", "ClusterRole"):
            continue
        assert doc.get("rules"), f"{doc['kind']} {doc['metadata']['name']} has no rules"
        for rule in doc["rules"]:
            assert set(rule) <= {"apiGroups", "resources", "resourceNames", "verbs"}, rule
            for field in ("apiGroups", "resources", "resourceNames", "verbs"):
                for item in rule.get(field, []):
                    assert "*" not in item, f"wildcard in {doc['kind']} {doc['metadata']['name']}: {rule}"
            assert set(rule["verbs"]) <= allowed_verbs, rule
    for doc in case["docs"]:
        if doc["kind"] in ("RoleBinding", "ClusterRoleBinding"):
            subjects = doc["subjects"]
            groups = {s["name"] for s in subjects if s["kind"] == "Group"}
            # Only the service proxier is ever granted to users, and only to authenticated ones.
            if groups:
                assert doc["metadata"]["name"].endswith("-service-proxier"), doc
                assert groups == {"system:authenticated"}, doc


def test_first_service_port_is_the_api(case):
    svc = one(case["docs"], "Service", case["service"])
    assert svc["metadata"]["namespace"] == case["namespace"]
    first = svc["spec"]["ports"][0]
    assert first["name"] == case["port"]
    assert first["targetPort"] == "http"
    deploy = one(case["docs"], "Deployment")
    ports = {p["name"]: p["containerPort"] for p in deploy["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert f"--listen-addr=:{ports['http']}" in deployment_args(case["docs"])
    assert f"--listen-metrics-addr=:{ports['metrics']}" in deployment_args(case["docs"])
    metrics = one(case["docs"], "Service", f"{case['service']}-metrics")
    assert metrics["spec"]["ports"][0]["targetPort"] == "metrics"


def test_service_proxier_grants_exactly_what_kubeseal_uses(case):
    if case["name"] == "no-rbac":
        assert not by_kind(case["docs"], "Role") and not by_kind(case["docs"], "ClusterRole")
        return
    svc = case["service"]
    role = one(case["docs"], "Role", f"{svc}-service-proxier")
    assert role["metadata"]["namespace"] == case["namespace"]
    rules = {tuple(r["resources"]): r for r in role["rules"]}
    assert rules[("services",)]["resourceNames"] == [svc]
    assert rules[("services",)]["verbs"] == ["get"]
    proxy = rules[("services/proxy",)]
    assert {f"http:{svc}:", f"http:{svc}:{case['port']}", svc} <= set(proxy["resourceNames"])
    assert sorted(proxy["verbs"]) == ["create", "get"]


def test_pod_is_locked_down(case):
    pod = one(case["docs"], "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["runAsNonRoot"] is True
    assert sc.get("allowPrivilegeEscalation", False) is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    seccomp = (sc.get("seccompProfile") or pod["securityContext"].get("seccompProfile"))["type"]
    assert seccomp == "RuntimeDefault"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["command"] == ["controller"]
    assert one(case["docs"], "Deployment")["spec"]["replicas"] == 1
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"


def test_args_are_controller_flags(case):
    for arg in deployment_args(case["docs"]):
        m = re.fullmatch(r"--([a-z0-9-]+)=(.*)", arg, re.DOTALL)
        assert m, f"not --flag=value: {arg!r}"
        assert m.group(1) in CONTROLLER_FLAGS, f"unknown controller flag {arg!r}"


def controller_bin() -> str:
    explicit = os.environ.get("CONTROLLER_BIN")
    if explicit:
        return explicit
    built = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "controller"
    if not built.exists():
        pytest.skip("controller not built: cargo build -p sealed-secrets-controller (or set CONTROLLER_BIN)")
    return str(built)


def test_controller_accepts_the_rendered_flags(case, tmp_path):
    """The real controller parses and validates the chart's command line: it gets as far
    as reading its kubeconfig (which does not exist), so no flag or value was refused."""
    args = [a for a in deployment_args(case["docs"]) if not a.startswith(("--listen-addr=", "--listen-metrics-addr="))]
    missing = tmp_path / "no-such-kubeconfig"
    run = subprocess.run(
        [controller_bin(), *args, "--listen-addr=127.0.0.1:0", "--listen-metrics-addr=127.0.0.1:0",
         f"--kubeconfig={missing}"],
        capture_output=True, text=True, timeout=60, env={"POD_NAMESPACE": case["namespace"], "PATH": os.environ["PATH"]},
    )
    assert run.returncode == 1
    assert f"cannot read kubeconfig {missing}" in run.stderr, run.stderr


def test_rendered_output_passes_yamllint(case, tmp_path):
    out = tmp_path / f"{case['name']}.yaml"
    out.write_text(case["text"])
    run = subprocess.run(
        [sys.executable, "-m", "yamllint", "-s", "-c", str(ROOT / ".yamllint.yaml"), str(out)],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


# ---- behaviour of particular values ----


def rules_of(doc: dict) -> dict[tuple, dict]:
    return {(tuple(r["apiGroups"]), tuple(r["resources"])): r for r in doc["rules"]}


def test_default_rbac_is_exactly_the_least_privilege_set():
    docs = render_docs({})
    unsealer = one(docs, "ClusterRole", "sealed-secrets-controller-unsealer")
    assert {k: sorted(v["verbs"]) for k, v in rules_of(unsealer).items()} == {
        (("bitnami.com",), ("sealedsecrets",)): ["get", "list", "watch"],
        (("bitnami.com",), ("sealedsecrets/status",)): ["patch", "update"],
        (("",), ("secrets",)): ["create", "get", "list", "update", "watch"],
        (("",), ("events",)): ["create", "patch"],
    }
    key_admin = one(docs, "Role", "sealed-secrets-controller-key-admin")
    assert key_admin["metadata"]["namespace"] == "kube-system"
    assert [(r["apiGroups"], r["resources"], r.get("resourceNames"), sorted(r["verbs"])) for r in key_admin["rules"]] == [
        ([""], ["secrets"], None, ["create", "get", "list", "watch"]),
        (["coordination.k8s.io"], ["leases"], None, ["create"]),
        (["coordination.k8s.io"], ["leases"], ["sealed-secrets-controller"], ["get", "update"]),
    ]
    binding = one(docs, "ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "sealed-secrets-controller", "namespace": "kube-system"}
    ]
    assert sorted(d["kind"] for d in docs) == sorted([
        "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
        "Role", "RoleBinding", "Role", "RoleBinding", "Service", "Service", "Deployment",
    ])  # fmt: skip


def test_default_args():
    assert deployment_args(render_docs({})) == [
        "--key-prefix=sealed-secrets-key",
        "--key-renew-period=720h",
        "--update-status=true",
        "--skip-recreate=false",
        "--old-gc-behavior=false",
        "--watch-for-secrets=false",
        "--log-info-stdout=true",
        "--log-level=INFO",
        "--log-format=text",
        "--listen-addr=:8080",
        "--listen-metrics-addr=:8081",
        "--leader-elect=true",
        "--leader-elect-lease-name=sealed-secrets-controller",
        "--leader-elect-lease-duration=15s",
        "--leader-elect-renew-deadline=10s",
        "--leader-elect-retry-period=2s",
    ]


def test_several_replicas_elect_a_leader_on_the_release_s_own_lease():
    docs = render_docs({"replicas": 3}, release="ss")
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}
    }
    lease = deployment["metadata"]["name"]
    assert f"--leader-elect-lease-name={lease}" in deployment_args(docs)
    key_admin = one(docs, "Role", f"{lease}-key-admin")
    named = [r for r in key_admin["rules"] if r.get("resourceNames")]
    assert named == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                      "resourceNames": [lease], "verbs": ["get", "update"]}]


def test_without_leader_election_one_replica_and_recreate():
    docs = render_docs({"leaderElection": {"enabled": False}})
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert not [a for a in deployment_args(docs) if a.startswith("--leader-elect")]
    key_admin = one(docs, "Role", "sealed-secrets-controller-key-admin")
    assert [r["resources"] for r in key_admin["rules"]] == [["secrets"]]


def test_namespaced_install_has_no_cluster_wide_access():
    values, release, namespace, *_ = VALUE_SETS["namespaced"]
    docs = render_docs(values, release=release, namespace=namespace)
    assert not by_kind(docs, "ClusterRole") and not by_kind(docs, "ClusterRoleBinding")
    unsealers = [d for d in by_kind(docs, "Role") if d["metadata"]["name"].endswith("-unsealer")]
    assert sorted(d["metadata"]["namespace"] for d in unsealers) == ["team-a", "team-b", "tenant-x"]
    for role in unsealers:
        assert ("", "secrets") in {(g, r) for (gs, rs) in rules_of(role) for g in gs for r in rs}
    bindings = [d for d in by_kind(docs, "RoleBinding") if d["metadata"]["name"].endswith("-unsealer")]
    assert sorted(d["metadata"]["namespace"] for d in bindings) == ["team-a", "team-b", "tenant-x"]
    for b in bindings:
        assert b["subjects"] == [{"kind": "ServiceAccount", "name": "sealed-secrets-controller", "namespace": "tenant-x"}]
    args = deployment_args(docs)
    assert "--all-namespaces=false" in args
    # Deduplicated, own namespace dropped.
    assert "--additional-namespaces=team-a,team-b" in args


def test_everything_on():
    values, release, namespace, *_ = VALUE_SETS["everything-on"]
    docs = render_docs(values, release=release, namespace=namespace)
    args = deployment_args(docs)
    for expected in [
        "--key-cutoff-time=Mon, 02 Jan 2006 15:04:05 -0700",
        "--key-ttl=43800h",
        "--key-size=3072",
        "--my-cn=sealed-secrets prod",
        "--key-order-priority=SecretCreationTimestamp",
        "--rate-limit=5",
        "--rate-limit-burst=10",
        "--max-unseal-retries=3",
        "--kubeclient-qps=20",
        "--kubeclient-burst=40",
        "--label-selector=shard=a",
        "--additional-namespaces=payments",
        "--privatekey-annotations=backup.example/keep=true",
        "--privatekey-labels=env=prod,tier=keys",
        "--log-info-stdout=false",
        "--log-level=DEBUG",
        "--log-format=json",
        "--old-gc-behavior=true",
        "--update-status=false",
        "--accept-deprecated-v1-data=false",
    ]:
        assert expected in args, (expected, args)
    unsealer = one(docs, "ClusterRole")
    rules = rules_of(unsealer)
    assert "delete" in rules[(("",), ("secrets",))]["verbs"]
    assert (("bitnami.com",), ("sealedsecrets/status",)) not in rules  # updateStatus=false
    assert rules[(("",), ("namespaces",))] == {
        "apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["payments"], "verbs": ["get"]
    }  # fmt: skip
    container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/sealed-secrets-rs/sealed-secrets-controller@sha256:" + "ab" * 32
    assert {"name": "RUST_BACKTRACE", "value": "1"} in container["env"]
    sm = one(docs, "ServiceMonitor")
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"
    assert sm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "metrics"
    assert sm["metadata"]["labels"]["release"] == "prom"
    assert one(docs, "PodDisruptionBudget")["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "sealed-secrets", "app.kubernetes.io/instance": "ss"}},
    }
    np = one(docs, "NetworkPolicy")["spec"]
    assert np["policyTypes"] == ["Ingress", "Egress"]
    assert np["egress"] == [{"to": [{"ipBlock": {"cidr": "10.96.0.1/32"}}], "ports": [{"port": 443, "protocol": "TCP"}]}]
    for doc in docs:
        if doc["kind"] != "CustomResourceDefinition":
            assert doc["metadata"]["labels"]["team"] == "platform", doc["kind"]
            assert doc["metadata"]["annotations"]["owner"] == "platform@example.invalid", doc["kind"]


def test_renamed_install_keeps_kubeseal_reachable():
    values, release, namespace, *_ = VALUE_SETS["renamed"]
    docs = render_docs(values, release=release, namespace=namespace)
    assert one(docs, "ClusterRole")["metadata"]["name"] == "my-sealer-cluster-wide"
    svc = one(docs, "Service", "my-sealer")
    assert svc["spec"]["ports"][0] == {"name": "api", "port": 9000, "targetPort": "http", "protocol": "TCP"}
    proxier = one(docs, "Role", "my-sealer-service-proxier")
    names = next(r for r in proxier["rules"] if r["resources"] == ["services/proxy"])["resourceNames"]
    assert names == ["http:my-sealer:", "http:my-sealer:api", "http:my-sealer:http", "my-sealer"]


def test_rbac_off_renders_no_rbac_and_uses_the_given_service_account():
    values, release, namespace, *_ = VALUE_SETS["no-rbac"]
    docs = render_docs(values, release=release, namespace=namespace)
    kinds = {d["kind"] for d in docs}
    assert not kinds & {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "ServiceAccount"}
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "preexisting"


def test_skip_recreate_drops_the_secret_watch_outside_the_key_namespace():
    values, release, namespace, *_ = VALUE_SETS["bitnami-migration"]  # skipRecreate: true
    docs = render_docs(values, release=release, namespace=namespace)
    assert "--skip-recreate=true" in deployment_args(docs)
    secrets = rules_of(one(docs, "ClusterRole"))[(("",), ("secrets",))]
    assert secrets["verbs"] == ["get", "create", "update"]
    # The key Secrets are still watched, in the controller's namespace only.
    key_admin = one(docs, "Role", "sealed-secrets-controller-key-admin")
    assert "watch" in key_admin["rules"][0]["verbs"]


def test_log_info_stdout_false_really_reaches_the_controller():
    # Bitnami's chart cannot switch this default-true flag off; ours must.
    assert "--log-info-stdout=false" in deployment_args(render_docs({"logInfoStdout": False}))


def test_pdb_min_available_wins_over_the_default_max_unavailable():
    pdb = one(render_docs({"pdb": {"create": True, "minAvailable": 1}}), "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1 and "maxUnavailable" not in pdb["spec"]


def test_create_controller_false_keeps_rbac_and_services():
    docs = render_docs({"createController": False})
    assert not by_kind(docs, "Deployment")
    assert one(docs, "Service", "sealed-secrets-controller")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicaCount": 2}, "replicaCount is now called replicas"),
        ({"replicas": 2, "leaderElection": {"enabled": False}}, "replicas > 1 needs leaderElection.enabled=true"),
        ({"rbac": {"namespacedRoles": True}}, "rbac.clusterRole and rbac.namespacedRoles are exclusive"),
        ({"privateKeyAnnotations": {"a": ""}}, "privateKeyAnnotations.a must be a non-empty string"),
        ({"privateKeyLabels": {"a": 1}}, "privateKeyLabels.a must be a non-empty string"),
        ({"logFormat": "xml"}, "logFormat must be text or json"),
        ({"logLevel": "loud"}, "logLevel must be DEBUG, INFO, WARN or ERROR"),
        ({"networkPolicy": {"enabled": True, "egress": {"enabled": True}}}, "needs networkPolicy.egress.kubeapiCidr"),
    ],
)
def test_bad_values_fail_with_the_fix(values, message):
    with pytest.raises(render_manifests.RenderError, match=re.escape(message)):
        render_manifests.render(values)
    # (helm lint runs templates in lint mode, where `fail` only logs; install and
    # template, like render, stop with the message.)


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"updateStatus": "no"}, "/updateStatus"),
        ({"replicas": "two"}, "/replicas"),
        ({"replicas": 0}, "/replicas"),
        ({"leaderElection": {"retryPeriod": "2 seconds"}}, "/leaderElection/retryPeriod"),
        ({"secretName": "Sealed_Key"}, "/secretName"),
        ({"additionalNamespaces": "team-a,team-b"}, "/additionalNamespaces"),
        ({"service": {"ports": {"name": "API port"}}}, "/service/ports/name"),
        ({"keyOrderPriority": "Newest"}, "/keyOrderPriority"),
    ],
)
def test_schema_rejects_wrong_types(values, where):
    report = helm.lint(str(CHART), values)
    assert any(where in e for e in report["errors"]), report


def test_schema_accepts_bitnami_only_values():
    # A migrating HelmRelease may still carry values this chart ignores.
    report = helm.lint(str(CHART), {"ingress": {"enabled": False}, "metrics": {"dashboards": {"create": False}}})
    assert report["errors"] == [], report


# ---- generated files and the image ----


def test_chart_crd_is_the_generated_crd():
    generated = (ROOT / "deploy" / "crds" / "sealedsecrets.bitnami.com.yaml").read_text()
    in_chart = (CHART / "crds" / "sealedsecrets.bitnami.com.yaml").read_text()
    assert in_chart == generated, "run: cargo run -p xtask -- gen"
    with helm.Chart.load(str(CHART)) as chart:
        crds = [yaml.safe_load(c["data"].split("---", 1)[1]) for c in chart.crds]
    assert [c["metadata"]["name"] for c in crds] == ["sealedsecrets.bitnami.com"]


def test_plain_manifests_are_the_rendered_chart():
    for name, values in render_manifests.OUTPUTS.items():
        committed = (ROOT / "deploy" / "manifests" / name).read_text()
        assert committed == render_manifests.render(values), (
            f"deploy/manifests/{name} is stale: run python3 scripts/render-manifests.py"
        )
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "manifests" / "controller.yaml").read_text()))
    assert docs[0]["kind"] == "CustomResourceDefinition"
    svc = one(docs, "Service", "sealed-secrets-controller")
    assert svc["metadata"]["namespace"] == "kube-system" and svc["spec"]["ports"][0]["name"] == "http"


def test_chart_version_follows_the_workspace():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    version = cargo["workspace"]["package"]["version"]
    with helm.Chart.load(str(CHART)) as chart:
        assert chart.metadata["appVersion"] == version
        assert chart.metadata["version"] == version
        image_tag = chart.values["image"]["tag"]
    assert image_tag == "", "the image tag defaults to appVersion"


def test_dockerfile_matches_the_chart():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert len(stages) >= 2, "multi-stage build"
    assert "distroless" in stages[-1]
    assert "cargo build --release --locked -p sealed-secrets-controller" in text
    user = re.findall(r"^USER\s+(\d+)(?::(\d+))?\s*$", text, re.MULTILINE)
    assert user, "final stage must set a numeric non-root USER"
    uid, gid = user[-1]
    assert int(uid) != 0
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["containerSecurityContext"]["runAsUser"] == int(uid)
    assert values["containerSecurityContext"]["runAsGroup"] == int(gid or uid)
    assert re.search(r'^ENTRYPOINT \["controller"\]\s*$', text, re.MULTILINE)
    assert re.search(r"^EXPOSE 8080 8081\s*$", text, re.MULTILINE)
    assert values["containerPorts"] == {"http": 8080, "metrics": 8081}


def test_repository_yaml_passes_yamllint():
    # What we ship and document; .yamllint.yaml excludes test inputs and SOPS output.
    run = subprocess.run(
        [sys.executable, "-m", "yamllint", "-s", "-c", str(ROOT / ".yamllint.yaml"),
         "deploy", "examples", ".yamllint.yaml"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
