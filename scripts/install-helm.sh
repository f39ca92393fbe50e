#!/usr/bin/env bash
# Installs the tools the Helm chart tests (deploy/test) need into the project-local folder .tools/
# (git-ignored), without touching the system:
#   1. helm, built from source with the Go toolchain (the Go module proxy is the only place helm can
#      come from here: release binaries are downloads from other hosts).
#   2. kubernetes-validate (PyPI) in the virtual environment .tools/venv. It ships the Kubernetes
#      JSON schemas of every minor release from 1.25 on, strict variants included, so rendered
#      manifests are checked against several Kubernetes versions offline.
# Idempotent: a tool already at the pinned version is kept. Prints where each tool is and how long
# each step took.
#
# Usage: scripts/install-helm.sh [--helm-only]
#   --helm-only   skip the schema validator
# Environment: HELM_VERSION (default v3.22.0), HELM_KUBE_MINOR (default 37, the Kubernetes minor of
#   that helm's client-go), KUBERNETES_VALIDATE_VERSION (default 1.37.0), PYTHON (default python3;
#   3.9 or later).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
venv="$tools/venv"
helm_version="${HELM_VERSION:-v3.22.0}"
validator_version="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
# Kubernetes minor version of helm's client-go (v0.37 for helm v3.22.0): its default for rendering.
kube_minor="${HELM_KUBE_MINOR:-37}"
python="${PYTHON:-python3}"
with_validator=1

while [ $# -gt 0 ]; do
  case "$1" in
    --helm-only) with_validator=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install-helm: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "install-helm: $*"; }
die() { echo "install-helm: error: $*" >&2; exit 1; }
mkdir -p "$bin"

# 1. helm, rebuilt only when HELM_VERSION changes (the version is stamped in by -ldflags below).
current=""
if [ -x "$bin/helm" ]; then current="$("$bin/helm" version --template '{{.Version}}' 2>/dev/null || true)"; fi
if [ "$current" = "$helm_version" ]; then
  say "helm $helm_version already installed: $bin/helm"
else
  command -v go >/dev/null 2>&1 || die "Go not found; helm is built with 'go install' (helm v3.22 needs Go 1.26 or later)"
  say "building helm $helm_version with $(go version | cut -d' ' -f3) (first build takes a few minutes on 2 cores)"
  started=$SECONDS
  # -mod=mod: helm's go.mod has replace/exclude directives that only resolve in module mode.
  # The -X flags are the ones helm's own Makefile sets: without them the binary calls itself v3.x
  # and renders for Kubernetes 1.20 by default (`helm template` then refuses charts that need more).
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kube_minor"
  done
  GOBIN="$bin" GOFLAGS=-mod=mod go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$helm_version"
  say "built helm in $((SECONDS - started)) s"
fi
say "helm: $bin/helm ($("$bin/helm" version --short 2>/dev/null))"

# 2. kubernetes-validate in its own venv.
if [ "$with_validator" = 1 ]; then
  command -v "$python" >/dev/null 2>&1 || die "$python not found; the schema validator needs Python 3.9 or later (or pass --helm-only)"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating virtual environment $venv"
    "$python" -m venv "$venv"
  fi
  have="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null || true)"
  if [ "$have" = "$validator_version" ]; then
    say "kubernetes-validate $validator_version already installed"
  else
    started=$SECONDS
    say "installing kubernetes-validate $validator_version"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "kubernetes-validate==$validator_version"
    say "installed kubernetes-validate in $((SECONDS - started)) s"
  fi
  say "kubernetes-validate: $venv/bin/python -m kubernetes_validate"
fi
