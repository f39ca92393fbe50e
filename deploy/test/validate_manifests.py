"""Validates Kubernetes objects against the API schemas of several Kubernetes versions, offline.

Used by deploy/test/chart.test.ts. Reads a JSON array of objects (the parsed output of
`helm template`) on stdin; the arguments are Kubernetes versions (e.g. 1.29.0 1.30.0 1.31.0).
Prints one JSON array with a result per object and version:
  {"index": i, "kind": ..., "name": ..., "version": the version asked for,
   "status": "ok" | "invalid" | "no-schema", "message": ...}
"no-schema" is a kind the schemas do not cover (custom resources such as ServiceMonitor); the
caller decides which of those it accepts. Validation is strict: a field the schema does not
declare is an error, as it is for `kubectl apply --validate=strict`.

The schemas come from the kubernetes-validate package (scripts/install-helm.sh installs it into
.tools/venv). Exit status: 0 when every result was produced (whatever they say), 2 on bad input.
"""
import json
import sys

from kubernetes_validate import utils


def check(obj, version):
    """One result for `obj` against Kubernetes `version`."""
    result = {
        "kind": obj.get("kind"),
        "name": (obj.get("metadata") or {}).get("name"),
        "version": version,
        "status": "ok",
        "message": "",
    }
    try:
        utils.validate(obj, version, strict=True)
    except utils.ValidationError as err:
        path = ".".join(str(p) for p in err.path)
        result["status"] = "invalid"
        result["message"] = f"{path}: {err.message}" if path else err.message
    except utils.SchemaNotFoundError as err:
        result["status"] = "no-schema"
        result["message"] = err.message
    return result


def main(argv):
    versions = argv[1:]
    if not versions:
        print("usage: validate_manifests.py VERSION... < objects.json", file=sys.stderr)
        return 2
    try:
        objects = json.load(sys.stdin)
    except json.JSONDecodeError as err:
        print(f"validate_manifests.py: stdin is not JSON: {err}", file=sys.stderr)
        return 2
    if not isinstance(objects, list):
        print("validate_manifests.py: stdin must hold a JSON array of objects", file=sys.stderr)
        return 2
    results = []
    for index, obj in enumerate(objects):
        for version in versions:
            results.append({"index": index, **check(obj, version)})
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
