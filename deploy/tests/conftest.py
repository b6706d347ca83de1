"""Shared helpers for the chart, manifest and Flux-tree tests (Helm v4 via helm-python-sdk)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sealed-secrets"


def _load_render_module():
    spec = importlib.util.spec_from_file_location("render_manifests", ROOT / "scripts" / "render-manifests.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_manifests = _load_render_module()


def render_docs(values: dict | None = None, *, release: str = "sealed-secrets-controller",
                namespace: str = "kube-system") -> list[dict]:
    """Every object the chart renders for `values` (CRD included), parsed."""
    text = render_manifests.render(values or {}, release=release, namespace=namespace)
    return [d for d in yaml.safe_load_all(text) if d is not None]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
