"""The configuration loader: safe YAML, `${ENV}` / `${file:...}` secrets, located errors.

`load_config(path)` returns a validated `Config` (see `monitor.config_schema`) or raises
`ConfigError` whose lines each name the file, the key path (e.g. `accounts[3].language.pair`)
and, where the YAML has it, the line.
"""

from __future__ import annotations

import os
import re
import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ValidationError

from monitor.config_schema import Config, cross_checks
from monitor.insecure import insecure_settings
from monitor.notifiers.specs import CHANNELS
from monitor.secrets import SecretFileError, line_break_problem, mask_secrets, read_secret_file

DEFAULT_CONFIG_PATH = "config/socialmon.yaml"
MAX_ALIASES = 100
MAX_EXPANDED_NODES = 100_000  # values after expanding aliases; a real config has a few thousand
MAX_DEPTH = 30
# Problems printed (the rest are counted): a screenful, so that a new deployment's missing
# environment variables (often six or more) show in one run, not one `check-config` after another.
MAX_REPORTED = 20
MAX_CONFIG_BYTES = 2 * 1024 * 1024
_SECRET_REF = re.compile(r"\$\{([^}]*)\}")
_FILE_VARIABLE = re.compile(r"\$\{file:([^}$]*)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Every secret value resolved from the environment or a file; the log redactor masks them.
RESOLVED_SECRETS: set[str] = set()


class ConfigError(Exception):
    """A configuration problem; `lines` are ready to print, one problem each."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


# ---------------------------------------------------------------------------------------------
# Loading


# PyYAML's int and float patterns without their base-60 alternative.
_YAML_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_YAML_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _without_sexagesimal(resolvers: dict[Any, Any]) -> dict[Any, Any]:
    """YAML 1.1 reads `8:30` as the base-60 number 510; a config means the time of day."""
    replace = {"tag:yaml.org,2002:int": _YAML_INT, "tag:yaml.org,2002:float": _YAML_FLOAT}
    return {
        first: [(tag, replace.get(tag, regexp)) for tag, regexp in entries]
        for first, entries in resolvers.items()
    }


# libyaml's parser (in PyYAML's wheels) composes a config ~15x faster than the pure-Python one;
# the pure-Python loader is the fallback where PyYAML was built without it.
_SafeLoaderBase: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LimitedLoader(_SafeLoaderBase):
    """SafeLoader (no Python tags) that reads `8:30` as text (see `_without_sexagesimal`)."""

    yaml_implicit_resolvers = _without_sexagesimal(yaml.SafeLoader.yaml_implicit_resolvers)


class _ExplainingLoader(yaml.SafeLoader):
    """The pure-Python parser, run again on a file libyaml refused: its messages name the
    offending character ("found character '\\t'"), which `_yaml_error_line` turns into advice."""

    yaml_implicit_resolvers = _LimitedLoader.yaml_implicit_resolvers


def _explained(text: str, exc: yaml.YAMLError) -> yaml.YAMLError:
    try:
        yaml.compose(text, Loader=_ExplainingLoader)
    except yaml.YAMLError as explained:
        return explained
    except RecursionError:
        pass
    return exc


def _refuse_many_aliases(text: str) -> None:
    """Refuse more than MAX_ALIASES aliases (`*name`) before composing: few aliases can still
    expand hugely, which `_scan` bounds; many aliases are refused here, by token, at their line."""
    if "*" not in text:
        return
    aliases = 0
    for token in yaml.scan(text, Loader=_SafeLoaderBase):
        if isinstance(token, yaml.AliasToken):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Refused(
                    f"more than {MAX_ALIASES} aliases: refusing a possible alias bomb",
                    token.start_mark.line + 1,
                )


class _Refused(Exception):
    """The YAML is well-formed but not something a config file may be (bomb, recursion)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _scan(node: yaml.Node | None) -> tuple[dict[tuple[Any, ...], int], list[tuple[tuple[Any, ...], str]]]:
    """Map each key path to its 1-based source line and find duplicate keys.

    Walking the node graph with aliases expanded costs what constructing and validating it
    will cost, so this is also where an alias bomb (few aliases, exponential size) and a
    recursive alias are refused, before anything expands them.
    """
    lines: dict[tuple[Any, ...], int] = {}
    duplicates: list[tuple[tuple[Any, ...], str]] = []
    budget = [MAX_EXPANDED_NODES]
    ancestors: set[int] = set()

    def walk(current: yaml.Node, path: tuple[Any, ...]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Refused(
                f"expands to more than {MAX_EXPANDED_NODES} values: refusing a possible alias bomb"
            )
        if id(current) in ancestors:
            raise _Refused(
                "an alias refers to a node that contains it (recursive)", current.start_mark.line + 1
            )
        if len(path) > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", current.start_mark.line + 1)
        lines.setdefault(path, current.start_mark.line + 1)
        ancestors.add(id(current))
        if isinstance(current, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in current.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                if key != "<<":
                    if key in seen:
                        duplicates.append(
                            ((*path, key), f"duplicate key (line {key_node.start_mark.line + 1})")
                        )
                    seen.add(key)
                    lines.setdefault((*path, key), key_node.start_mark.line + 1)
                walk(value_node, path if key == "<<" else (*path, key))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                walk(item, (*path, i))
        ancestors.discard(id(current))

    if node is not None:
        walk(node, ())
    return lines, duplicates


def format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class _Located:
    """Turns (key path, message) into `file:line: key.path: message`, secrets masked."""

    def __init__(self, source: str, lines: dict[tuple[Any, ...], int]):
        self.source = source
        self.lines = lines
        self.secrets: set[str] = set()

    def line_for(self, path: tuple[Any, ...]) -> int | None:
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def message(self, path: tuple[Any, ...], text: str) -> str:
        line = self.line_for(path)
        where = f"{self.source}:{line}" if line else self.source
        return self._mask(f"{where}: {format_path(path)}: {text}")

    def error(self, problems: list[tuple[tuple[Any, ...], str]]) -> ConfigError:
        lines = [self.message(p, m) for p, m in problems[:MAX_REPORTED]]
        if len(problems) > MAX_REPORTED:
            lines.append(f"{self.source}: ... and {len(problems) - MAX_REPORTED} more problems")
        return ConfigError(lines)

    def _mask(self, text: str) -> str:
        # A secret referenced into a checked field (say an address) must not come back in its error,
        # in any form (each line, JSON-escaped, URL-encoded, repr).
        return mask_secrets(text, self.secrets)


def _resolve_secrets(
    value: Any,
    path: tuple[Any, ...],
    env: dict[str, str],
    problems: list[tuple[Any, str]],
    found: set[str],
    notes: list[tuple[Any, str]] | None = None,
) -> Any:
    """Replace every `${NAME}` and `${file:/path}` in string values; collect what is wrong
    (`problems`) and what is worth a warning (`notes`). A file path may itself name a variable:
    `${file:${CREDENTIALS_DIRECTORY}/x_token}` (systemd's LoadCredential=)."""
    if isinstance(value, dict):
        return {k: _resolve_secrets(v, (*path, k), env, problems, found, notes) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_secrets(v, (*path, i), env, problems, found, notes) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def file_variable(match: re.Match[str]) -> str:
        name = match[2]
        if name not in env:
            problems.append((path, f"environment variable {name} (in a ${{file:...}} path) is not set"))
            return match[0].replace(f"${{{name}}}", "")
        return f"${{file:{match[1]}{env[name]}"

    value = _FILE_VARIABLE.sub(file_variable, value)

    def substitute(match: re.Match[str]) -> str:
        ref = match[1].strip()
        if ref.startswith("file:"):
            file_path = Path(ref[5:].strip()).expanduser()
            try:
                secret, warning = read_secret_file(file_path)
            except SecretFileError as exc:
                problems.append((path, f"cannot read secret file {str(file_path)!r}: {exc}"))
                return ""
            if warning and notes is not None:
                notes.append((path, f"secret file {str(file_path)!r} {warning}"))
            if not secret.strip():
                problems.append((path, f"secret file {str(file_path)!r} is empty"))
            elif broken := line_break_problem(secret):
                found.add(secret)  # still masked wherever it might be echoed
                problems.append((path, f"secret file {str(file_path)!r} {broken}"))
                return ""
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ref):
            if ref not in env:
                problems.append((path, f"environment variable {ref} is not set"))
                return ""
            secret = env[ref]
            if not secret.strip():
                problems.append((path, f"environment variable {ref} is empty"))
            elif broken := line_break_problem(secret):
                found.add(secret)
                problems.append((path, f"environment variable {ref} {broken}"))
                return ""
        else:
            problems.append(
                (path, "${...} must name an environment variable (${NAME}) or a file (${file:/path})")
            )
            return ""
        if secret:
            found.add(secret)
        return secret

    return _SECRET_REF.sub(substitute, value)


# Where a discriminated union sits, the key that picks its member.
_DISCRIMINATORS = ("mode", "type")


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[tuple[Any, ...], Any]:
    """Drop pydantic's union-member labels from a location, following the data.

    A discriminated union adds its tag (`paired`, `email`) to the path; a validator adds
    `function-after[...]`. Following the input tells such labels apart from real keys, so a
    channel named `email` keeps its name. Returns the path and the value found at it.
    """
    path: list[Any] = []
    current = data
    for part in loc:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        ):
            current = current[part]
            path.append(part)
        elif isinstance(current, dict) and any(current.get(k) == part for k in _DISCRIMINATORS):
            continue  # the union member's tag
        elif isinstance(part, str) and part.startswith(("function-", "lax-", "nullable[", "json-or-python")):
            continue
        else:
            path.append(part)
            current = None
    return tuple(path), current


def _allowed_keys(path: tuple[Any, ...], data: Any) -> list[str]:
    """The keys the model accepts at `path` (for "did you mean"); empty if unknown."""
    model: Any = Config
    current = data
    for part in path:
        current = _child(current, part)
        if isinstance(model, _Container):
            model = _model_of(model.annotation, current)
        else:
            field = _field_named(model, part)
            model = _model_of(field.annotation, current) if field is not None else None
        if model is None:
            return []
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [f.alias or name for name, f in model.model_fields.items() if name != "source"]


def _child(value: Any, part: Any) -> Any:
    if isinstance(value, dict):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


def _field_named(model: Any, key: Any) -> Any:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _model_of(annotation: Any, value: Any) -> Any:
    """The model (or container of models) an annotation such as `list[Account]` or `X | None` holds."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _model_of(typing.get_args(annotation)[0], value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if origin in (list, dict):
        return _Container(typing.get_args(annotation)[-1])
    members = [m for m in typing.get_args(annotation) if m is not type(None)]
    models = [m for m in (_model_of(m, value) for m in members) if m is not None]
    if len(models) == 1:
        return models[0]
    for candidate in models:  # a discriminated union: pick the member by the value's tag
        for key in _DISCRIMINATORS:
            tag_field = (
                getattr(candidate, "model_fields", {}).get(key) if isinstance(candidate, type) else None
            )
            if (
                tag_field is not None
                and isinstance(value, dict)
                and value.get(key) in typing.get_args(tag_field.annotation)
            ):
                return candidate
    return None


class _Container:
    """Stands for `list[...]` / `dict[str, ...]` while walking a path: the next part is an index or a name."""

    def __init__(self, annotation: Any):
        self.annotation = annotation


def _pydantic_problems(exc: ValidationError, data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    problems: list[tuple[tuple[Any, ...], str]] = []
    seen: set[tuple[tuple[Any, ...], str]] = set()
    for err in exc.errors(include_input=False, include_url=False):
        loc, _value = _clean_loc(tuple(err["loc"]), data)
        kind, ctx = err["type"], err.get("ctx") or {}
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if kind == "extra_forbidden":
            msg = "unknown key" + _suggestion(str(loc[-1]), _allowed_keys(loc[:-1], data))
        elif kind == "missing":
            msg = "is required"
        elif kind in {"union_tag_invalid", "union_tag_not_found"}:
            key = str(ctx.get("discriminator", "")).strip("'")
            loc = (*loc, key)
            expected = _expected_tags(loc[:-1], data) or str(ctx.get("expected_tags", "")).replace("'", "")
            msg = (
                f"must be one of {expected}"
                if kind == "union_tag_invalid"
                else f"is required (one of {expected})"
            )
        elif kind == "literal_error":
            msg = "must be one of " + str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        elif kind == "string_pattern_mismatch" and loc[-1:] == ("id",):
            msg = "must be a slug: lower-case letters, digits and hyphens, starting with a letter or digit"
        elif kind in {"dict_type", "model_type", "model_attributes_type"}:
            msg = "must be a mapping of keys"
        elif kind == "list_type":
            msg = "must be a list"
        elif kind == "string_type":
            msg = "must be text"
        elif kind.startswith(("int_", "float_")) and "parsing" in kind:
            msg = "must be a number"
        elif kind == "bool_parsing" or kind == "bool_type":
            msg = "must be true or false"
        if (loc, msg) not in seen:
            seen.add((loc, msg))
            problems.append((loc, msg))
    return problems


def _expected_tags(path: tuple[Any, ...], data: Any) -> str:
    if path[:1] == ("accounts",):
        return "paired, bilingual, exempt"
    if path[:2] == ("alerts", "channels"):
        return ", ".join(CHANNELS)
    return ""


def _suggestion(key: str, allowed: list[str]) -> str:
    import difflib  # only for a misspelt key

    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]}?)"
    return f" (allowed: {', '.join(sorted(allowed))})" if 0 < len(allowed) <= 12 else ""


def parse_config(text: str | bytes, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Parse and validate configuration text; raises ConfigError."""
    env = dict(os.environ) if env is None else env
    located = _Located(source, {})
    data = _read_yaml(text, source, located)
    problems: list[tuple[Any, str]] = []
    notes: list[tuple[Any, str]] = []
    resolved = _resolve_secrets(data, (), env, problems, located.secrets, notes)
    RESOLVED_SECRETS.update(located.secrets)
    if problems:
        raise located.error(problems)
    try:
        config = Config.model_validate({**resolved, "source": source})
    except ValidationError as exc:
        raise located.error(_pydantic_problems(exc, resolved)) from None
    cross = cross_checks(config)
    refused, warned = insecure_settings(config, data)
    cross += refused
    if cross:
        raise located.error(cross)
    warnings = tuple(located.message(p, m) for p, m in [*notes, *warned])
    return config.model_copy(update={"load_warnings": warnings}) if warnings else config


def _read_yaml(text: str | bytes, source: str, located: _Located) -> dict[str, Any]:
    """Safe-load one YAML mapping, recording key lines on `located`; raises ConfigError."""
    if isinstance(text, bytes):
        if b"\x00" in text:
            raise ConfigError([f"{source}: not a YAML text file (binary data)"])
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError([f"{source}: not UTF-8 text (byte {exc.start})"]) from None
    if not text.strip():
        raise ConfigError([f"{source}: the file is empty"])
    try:
        _refuse_many_aliases(text)
        loader = _LimitedLoader(text)
        try:
            node = loader.get_single_node()
            located.lines, duplicates = _scan(node)
            if duplicates:
                raise located.error(duplicates)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _Refused as exc:
        where = f"{source}:{exc.line}" if exc.line else source
        raise ConfigError([f"{where}: refused: {exc}"]) from None
    except yaml.YAMLError as refused:
        problem = _explained(text, refused)
        if isinstance(problem, yaml.MarkedYAMLError):
            raise ConfigError([_yaml_error_line(source, problem)]) from None
        first = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        raise ConfigError([f"{source}: invalid YAML: {first}"]) from None
    except RecursionError:
        raise ConfigError([f"{source}: invalid YAML: nested too deeply"]) from None
    if not isinstance(data, dict):
        kind = (
            "nothing"
            if data is None
            else {"list": "a list", "str": "text"}.get(type(data).__name__, type(data).__name__)
        )
        raise ConfigError([f"{source}:1: (top level): must be a mapping of keys (found {kind})"])
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise ConfigError([located.message((), f"key {bad_keys[0]!r} is not text")])
    # Top-level keys starting `x-` are the operator's own (anchors for `<<:` merges), as in Compose files.
    return {k: v for k, v in data.items() if not k.startswith("x-")}


def _yaml_error_line(source: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source}:{mark.line + 1}" if mark else source
    problem = exc.problem or exc.context or "not valid YAML"
    if problem.startswith("but ") and exc.context:  # "expected a single document ..., but found another"
        problem = f"{exc.context.replace(' in the stream', '')}, {problem}"
    if "could not determine a constructor" in problem:
        tag = re.search(r"tag '([^']*)'", problem)
        name = tag[1].replace("tag:yaml.org,2002:", "!!") if tag else "this tag"
        problem = f"the tag {name} is not allowed (plain YAML only)"
    if "'\\t'" in problem:  # PyYAML says "found character '\t'": say what to do about it
        column = f" (column {mark.column + 1})" if mark else ""
        problem = f"a tab character{column}: use spaces, not tabs, to indent and separate YAML"
    return f"{where}: invalid YAML: {problem}"


def default_config_path() -> Path:
    return Path(os.environ.get("SOCIALMON_CONFIG") or DEFAULT_CONFIG_PATH)


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read, parse and validate a config file; raises ConfigError naming the file."""
    file_path = Path(path) if path else default_config_path()
    source = str(file_path)
    try:
        if file_path.is_dir():
            raise ConfigError([f"{source}: is a directory, not a config file"])
        with file_path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([f"{source}: no such file (set SOCIALMON_CONFIG or pass a path)"]) from None
    except PermissionError:
        raise ConfigError([f"{source}: permission denied"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read: {exc.strerror}"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{source}: larger than {MAX_CONFIG_BYTES // 1024} KiB; not a config file"])
    return parse_config(raw, source, env)
