#!/usr/bin/env python3
"""Validates the network specs and shared files against their JSON Schemas.

    python3 Tests/Schema/validate_specs.py [REPO_ROOT] [-v]

Checks, in order:
  * Templates/network.schema.json, catalog.schema.json and statuses.schema.json are valid
    draft 2020-12 schemas;
  * every Networks/*.json and Templates/starters/*.json validates against network.schema.json, Templates/catalog.json and
    Templates/statuses.json against theirs (files must be strict JSON: no duplicate keys, no
    NaN/Infinity);
  * self-tests: copies of a real spec broken on purpose (unknown top-level key, a numeric
    tail, a credential without "key", send.request.method "FETCH") must be rejected, and
    the unbroken copies accepted, so the schema is known not to be vacuous.

Prints one line per problem as `path: /json/pointer: message` and ends with
`N passed, M failed` (N files valid; M files invalid plus failed self-tests). Exits 1 when
anything failed or a schema is invalid.

Needs the `jsonschema` package (Debian: python3-jsonschema). When the running interpreter
lacks it, the script re-runs itself with /usr/bin/python3 if that has it.
"""

import copy
import glob
import json
import os
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - depends on the machine
    system_python = "/usr/bin/python3"
    if os.path.realpath(sys.executable) != os.path.realpath(system_python) and os.path.exists(system_python) \
            and not os.environ.get("VALIDATE_SPECS_REEXEC"):
        os.environ["VALIDATE_SPECS_REEXEC"] = "1"
        os.execv(system_python, [system_python, os.path.abspath(__file__)] + sys.argv[1:])
    sys.stderr.write("validate_specs: the jsonschema package is missing (apt-get install python3-jsonschema)\n")
    sys.exit(2)

SCHEMAS = {
    "network": "Templates/network.schema.json",
    "catalog": "Templates/catalog.schema.json",
    "statuses": "Templates/statuses.schema.json",
}


# ---------------------------------------------------------------- strict JSON


class StrictJSONError(ValueError):
    pass


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise StrictJSONError(f"duplicate key \"{k}\"")
        out[k] = v
    return out


def _no_constants(name):
    raise StrictJSONError(f"{name} is not JSON")


def load_strict(path):
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")  # strict: a decoding error is reported by the caller
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


# ---------------------------------------------------------------- schema plumbing


def make_validator(schema, schemas_by_name):
    """A Draft 2020-12 validator that resolves the relative `network.schema.json#…` refs."""
    try:  # jsonschema >= 4.18
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        registry = Registry().with_resources(
            (name, Resource.from_contents(doc, default_specification=DRAFT202012)) for name, doc in schemas_by_name.items()
        )
        return Draft202012Validator(schema, registry=registry)
    except ImportError:
        resolver = jsonschema.RefResolver(base_uri="", referrer=schema, store=dict(schemas_by_name))
        return Draft202012Validator(schema, resolver=resolver)


def check_patterns(schema, where="#"):
    """Every `pattern` must compile (check_schema does not assert the regex format)."""
    problems = []
    if isinstance(schema, dict):
        for k, v in schema.items():
            if k == "pattern" and isinstance(v, str):
                try:
                    re.compile(v)
                except re.error as e:
                    problems.append((f"{where}/pattern", f"invalid regular expression: {e}"))
            problems += check_patterns(v, f"{where}/{escape(k)}")
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            problems += check_patterns(v, f"{where}/{i}")
    return problems


def escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(path):
    return "/" + "/".join(escape(p) for p in path) if path else "/"


def own_message(error):
    """The schema's errorMessage / patternErrorMessage (a VS Code extension we honour too)."""
    s = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "pattern" and "patternErrorMessage" in s:
        return s["patternErrorMessage"]
    return s.get("errorMessage")


def explain(error):
    """(path, message) lines for one validation error, made readable."""
    msg = own_message(error)
    if msg:
        return [(error.absolute_path, msg)]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        if extras:
            return [(list(error.absolute_path) + [k], f"unknown key \"{k}\"" + did_you_mean(k, sorted(allowed))) for k in extras]
    if error.validator in ("anyOf", "oneOf") and error.context:
        subs = list(error.context)
        if all(e.validator == "required" for e in subs):
            missing = [e.message.split("'")[1] for e in subs if e.message.count("'") >= 2]
            return [(error.absolute_path, "needs one of " + ", ".join(f"\"{m}\"" for m in missing))]
        relevant = [e for e in subs if e.validator not in ("type",) or e.absolute_path != error.absolute_path] or subs
        best = max(relevant, key=lambda e: len(e.absolute_path))
        return explain(best)
    return [(error.absolute_path, error.message)]


def did_you_mean(word, candidates):
    import difflib

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean \"{close[0]}\"?)" if close else ""


def problems_of(validator, instance):
    lines = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        for path, message in explain(error):
            line = (pointer(list(path)), message)
            if line not in lines:
                lines.append(line)
    return lines


# ---------------------------------------------------------------- self-tests


def self_tests(specs):
    """(name, base document, broken document, pointer the rejection must name) for each test."""
    with_items = next((d for _, d in specs if d.get("postbacks", {}).get("items")), None)
    with_creds = next((d for _, d in specs if d.get("credentials")), None)
    base_spec = with_items or with_creds or (specs[0][1] if specs else None)
    tests = []
    if base_spec is None:
        return tests

    doc = copy.deepcopy(base_spec)
    bad = copy.deepcopy(doc)
    bad["surprise"] = True
    tests.append(("unknown top-level key", doc, bad, "/surprise"))

    doc = copy.deepcopy(with_items or base_spec)
    doc.setdefault("postbacks", {}).setdefault("items", [{"label": {"ru": "Все", "en": "All"}, "tail": "&oid={sub1}"}])
    bad = copy.deepcopy(doc)
    bad["postbacks"]["items"][0]["tail"] = 5
    tests.append(("tail is a number", doc, bad, "/postbacks/items/0/tail"))

    doc = copy.deepcopy(with_creds or base_spec)
    doc.setdefault("credentials", [{"key": "token", "label": {"ru": "Токен", "en": "Token"}}])
    bad = copy.deepcopy(doc)
    del bad["credentials"][0]["key"]
    tests.append(("credential without key", doc, bad, "/credentials/0"))

    doc = copy.deepcopy(base_spec)
    if "send" not in doc:
        doc["send"] = {
            "request": {"method": "POST", "url": "https://api.example.com/lead", "form": {"phone": "{lead.phone}"}},
            "outcomes": [{"when": {"http": "2xx"}, "result": "accepted"}],
        }
    doc["send"].setdefault("request", {})["method"] = "POST"
    bad = copy.deepcopy(doc)
    bad["send"]["request"]["method"] = "FETCH"
    tests.append(("send.request.method FETCH", doc, bad, "/send/request/method"))
    return tests


# ---------------------------------------------------------------- main


def main(argv):
    args = [a for a in argv if not a.startswith("-")]
    verbose = "-v" in argv or "--verbose" in argv
    root = os.path.abspath(args[0]) if args else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rel = lambda p: os.path.relpath(p, root)
    passed = failed = 0
    schema_ok = True

    schemas, validators = {}, {}
    for key, path in SCHEMAS.items():
        full = os.path.join(root, path)
        try:
            schemas[key] = load_strict(full)
        except (OSError, ValueError) as e:
            print(f"{path}: /: cannot read the schema: {e}")
            schema_ok = False
            failed += 1
    by_name = {os.path.basename(SCHEMAS[k]): v for k, v in schemas.items()}
    for key, schema in schemas.items():
        bad = []
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            bad.append((pointer(list(e.absolute_path)), f"not a valid draft 2020-12 schema: {e.message}"))
        bad += check_patterns(schema)
        if bad:
            schema_ok = False
            failed += 1
            for p, m in bad:
                print(f"{SCHEMAS[key]}: {p.lstrip('#') or '/'}: {m}")
            continue
        validators[key] = make_validator(schema, by_name)

    targets = [(p, "network") for p in sorted(glob.glob(os.path.join(root, "Networks", "*.json")))]
    # The drafts `leadbridge new` starts from are specs too.
    targets += [(p, "network") for p in sorted(glob.glob(os.path.join(root, "Templates", "starters", "*.json")))]
    targets += [(os.path.join(root, "Templates", "catalog.json"), "catalog"), (os.path.join(root, "Templates", "statuses.json"), "statuses")]
    specs = []
    for path, key in targets:
        if key not in validators:
            continue  # its schema is broken: already reported
        try:
            doc = load_strict(path)
        except (OSError, ValueError) as e:
            print(f"{rel(path)}: /: not strict JSON: {e}")
            failed += 1
            continue
        try:
            problems = problems_of(validators[key], doc)
        except Exception as e:  # e.g. an unresolvable $ref: a schema problem, not the file's
            print(f"{SCHEMAS[key]}: /: cannot validate {rel(path)}: {type(e).__name__}: {e}")
            schema_ok = False
            failed += 1
            continue
        for p, m in problems:
            print(f"{rel(path)}: {p}: {m}")
        if problems:
            failed += 1
        else:
            passed += 1
            if verbose:
                print(f"ok: {rel(path)}")
            if key == "network":
                specs.append((rel(path), doc))

    if "network" in validators:
        if not specs:
            print("Networks: /: no valid spec to build the self-tests from")
            failed += 1
        for name, good, bad, expected in self_tests(specs):
            label = f"self-test \"{name}\""
            good_problems = problems_of(validators["network"], good)
            if good_problems:
                failed += 1
                for p, m in good_problems:
                    print(f"{label} (unbroken copy): {p}: {m}")
                continue
            bad_problems = problems_of(validators["network"], bad)
            if not bad_problems:
                failed += 1
                print(f"{label}: {expected}: accepted, but the schema must reject it")
            elif not any(p == expected or p.startswith(expected + "/") for p, _ in bad_problems):
                failed += 1
                found = "; ".join(f"{p}: {m}" for p, m in bad_problems)
                print(f"{label}: {expected}: rejected for another reason ({found})")
            elif verbose:
                print(f"ok: {label} rejected: " + "; ".join(f"{p}: {m}" for p, m in bad_problems))

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and schema_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
