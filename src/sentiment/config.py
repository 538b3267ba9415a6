"""Reading and validating params.yaml; the schemas live beside the code that owns them.

Each stage declares what it reads as `{section: schema}` (`TOP` for the fine-tune's top-level
keys, named like `transformers.TrainingArguments` so that `dvc exp run -S learning_rate=1e-5`
works) and calls `load()` first: an unknown key, a wrong type, a missing key or an impossible
value stops it before any work, with a message naming the key. Schema fields have no
defaults: params.yaml is the one place values live. `dvc_params()` gives the same
declaration as dvc.yaml's `params:` list, which a test holds equal to dvc.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import ConfigError

PARAMS_FILE = "params.yaml"
TOP = ""  # the top level of params.yaml: the fine-tune's keys


class Section(BaseModel):
    """A params.yaml section one stage owns. strict: "0.1" is not a float, 1.0 is not an int;
    a key the schema does not know is an error."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Subset(Section):
    """Some keys of a section another stage owns: a stage that reads only these validates only
    these (the owner's schema checks the rest) and declares them one by one in dvc.yaml."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


def Grid(**kw):
    """A list param searched on the validation split."""
    return Field(min_length=1, description=kw.pop("description", "grid searched on the validation split"), **kw)


# YAML 1.1 needs a dot in floats: PyYAML reads 1e-05 (what `dvc exp run -S` writes) as a str.
_FLOAT = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
# keep ints ints: the int resolver was registered first and still wins for "42"


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} not found (run from the project root)")
    with open(path) as f:
        data = yaml.load(f, Loader=_Loader)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _format(err: ValidationError, path: Path, prefix: str) -> str:
    lines = [f"{path}: invalid params"]
    for e in err.errors():
        key = ".".join([prefix] * bool(prefix) + [str(p) for p in e["loc"]]) or "<top level>"
        got = e.get("input")  # a check across keys gets the whole section: its message names the key
        lines.append(f"  {key}: {e['msg']}" + ("" if isinstance(got, dict) else f" (got {got!r})"))
    return "\n".join(lines)


def validate(schema: type[BaseModel], data: dict, path: str | Path = PARAMS_FILE, section: str = TOP) -> BaseModel:
    """`data` (one section, or the top level's scalar keys) as a `schema`, or ConfigError naming each bad key."""
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format(err, Path(path), section)) from None


def section_values(data: dict, section: str, path: str | Path = PARAMS_FILE) -> dict:
    """One section of params.yaml's `data`; for `TOP`, the top level's scalar keys (the sections
    are mappings), so a misspelled fine-tune key fails there too."""
    if section == TOP:
        return {k: v for k, v in data.items() if not isinstance(v, dict)}
    if not isinstance(data.get(section), dict):
        raise ConfigError(f"{path}: invalid params\n  {section}: missing section (a mapping)")
    return data[section]


def load(reads: dict[str, type[Section]], path: str | Path = PARAMS_FILE) -> dict[str, BaseModel]:
    """The validated params a stage reads, {section: params}."""
    data = read_yaml(path)
    return {
        section: validate(schema, section_values(data, section, path), path, section)
        for section, schema in reads.items()
    }


def load_section(section: str, schema: type[Section], path: str | Path = PARAMS_FILE) -> BaseModel:
    return load({section: schema}, path)[section]


def dvc_params(reads: dict[str, type[Section]]) -> list[str]:
    """What dvc.yaml's `params:` must list for a stage that reads `reads`: a whole section by its
    name, a Subset key by key, the top level key by key."""
    out = []
    for section, schema in reads.items():
        if section == TOP:
            out += list(schema.model_fields)
        elif schema.model_config.get("extra") == "ignore":
            out += [f"{section}.{k}" for k in schema.model_fields]
        else:
            out.append(section)
    return out
