"""Strict validation of JSON values against the platforms' SDK types (the contract suite's judge).

The SDKs' own models are lenient on purpose: the Fern-generated ones (Vapi, ElevenLabs) and the
Stainless-generated ones (Retell) allow extra keys, and pydantic coerces ("1" becomes 1). A render
with a misspelt or obsolete key would pass `model_validate` unnoticed. So `errors` walks the SDK's
type annotations itself and reports, one line per problem, each naming the JSON path:

- an unknown key (the JSON key is the field's alias, e.g. Vapi's camelCase `firstMessage`);
- a missing required key (no default and not Optional; `Required[...]` in a TypedDict);
- a value outside a closed `Literal` or `Enum` (Fern's open enums, `Union[Literal[...], Any]`, count
  as closed: the `Any` is there so old SDKs parse new responses, not because the API takes anything);
- a wrong JSON type, with no coercion (a bool is not an int, a string is not a number; an int is
  accepted where a float is expected, as JSON does not tell them apart);
- a discriminated union (Fern's `UnionMetadata(discriminant=...)`, Stainless'
  `PropertyInfo(discriminator=...)`, pydantic's `Field(discriminator=...)`) whose discriminant is
  missing or names no member;
- a union of objects that each hold a Literal at one key (Retell's tools) is chosen by that tag the
  same way; any other union accepts a value one member accepts, else reports the closest member.

It also runs pydantic's own validation (`model_validate`, or a `TypeAdapter` for a TypedDict or a
bare annotation) and adds its errors, prefixed `pydantic`, so the SDK's constraints count too.

API (kept stable: other contract tests import it):
    errors(model, value, path="") -> list[str]   # model: a pydantic model, a TypedDict, or any annotation
    check(model, value)                          # raises AssertionError listing every error
    fields(model) -> {json key: (annotation, required)}
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import enum
import functools
import sys
import types
import typing
import uuid

import pydantic
import typing_extensions

__all__ = ["errors", "check", "fields"]

# Pydantic errors are many for a large union (one per member tried); the strict walk already names
# the problem, so past this many the rest are counted rather than listed.
MAX_PYDANTIC_LINES = 40

_LITERALS = {typing.Literal, typing_extensions.Literal}
_ANNOTATED = {typing.Annotated, typing_extensions.Annotated}
_REQUIRED = {typing_extensions.Required, getattr(typing, "Required", typing_extensions.Required)}
_NOT_REQUIRED = {typing_extensions.NotRequired, getattr(typing, "NotRequired", typing_extensions.NotRequired)}
_UNIONS = {typing.Union, types.UnionType}
_SEQUENCES = {
    list, tuple, set, frozenset,
    collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable,
    collections.abc.Collection, collections.abc.Set, collections.abc.MutableSet,
}
_MAPPINGS = {dict, collections.abc.Mapping, collections.abc.MutableMapping}


# ---------------------------------------------------------------------------------------------
# public API


def errors(model: typing.Any, value: typing.Any, path: str = "") -> list[str]:
    """Every way `value` (a decoded JSON value) breaks `model`, one line each, naming the path."""
    found = _walk(model, value, path, _host_of(model))
    found += _pydantic_errors(model, value, path)
    return found


def fields(model: typing.Any) -> dict[str, tuple[typing.Any, bool]]:
    """The JSON keys of a pydantic model or a TypedDict: key -> (annotation, required)."""
    model = _strip_annotated(model)
    if typing_extensions.is_typeddict(model):
        return {k: (a, r) for k, (a, r, _h) in _typeddict_keys(model).items()}
    return {k: (a, r) for k, (_n, a, r, _h) in _model_fields(model).items()}


def check(model: typing.Any, value: typing.Any) -> None:
    """Raise AssertionError listing every error of `value` against `model`; pass silently if none."""
    found = errors(model, value)
    if found:
        raise AssertionError(
            f"{len(found)} error(s) against {_name(model)}:\n" + "\n".join(f"  {line}" for line in found)
        )


# ---------------------------------------------------------------------------------------------
# the walk


def _walk(tp: typing.Any, value: typing.Any, path: str, host: str | None) -> list[str]:
    """Errors of `value` against the annotation `tp`; `host` is the module that wrote `tp` (for
    forward references)."""
    tp = _resolve(tp, host)
    origin = typing_extensions.get_origin(tp)

    if tp is typing.Any or tp is object or tp is typing_extensions.Any:
        return []
    if origin in _ANNOTATED:
        base, *meta = typing_extensions.get_args(tp)
        disc = _discriminant_of(meta)
        if disc is not None:
            return _walk_discriminated(base, disc, value, path, host)
        return _walk(base, value, path, host)
    if origin in _REQUIRED or origin in _NOT_REQUIRED:
        return _walk(typing_extensions.get_args(tp)[0], value, path, host)
    if tp is None or tp is type(None):
        return [] if value is None else [f"{_at(path)}: expected null, got {_kind(value)}"]
    if origin in _UNIONS:
        return _walk_union(typing_extensions.get_args(tp), value, path, host)
    if origin in _LITERALS:
        allowed = typing_extensions.get_args(tp)
        if any(value == a and type(value) is type(a) for a in allowed):
            return []
        return [f"{_at(path)}: {value!r} is not one of {list(allowed)!r}"]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [m.value for m in tp]
        if any(value == a and (type(value) is type(a) or isinstance(a, str)) for a in allowed):
            return []
        return [f"{_at(path)}: {value!r} is not one of {tp.__name__} {allowed!r}"]
    if origin in _SEQUENCES or tp in _SEQUENCES or _is_sequence_alias(origin):
        return _walk_sequence(tp, value, path, host)
    if origin in _MAPPINGS or tp in _MAPPINGS:
        return _walk_mapping(tp, value, path, host)
    if typing_extensions.is_typeddict(tp):
        return _walk_typeddict(tp, value, path)
    if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        return _walk_model(tp, value, path)
    return _walk_scalar(tp, value, path)


def _walk_scalar(tp: typing.Any, value: typing.Any, path: str) -> list[str]:
    """A JSON scalar, no coercion: bool ≠ int, str ≠ number; int is fine where a float is asked."""
    ok: bool
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif tp is str:
        ok = isinstance(value, str)
    elif tp in (dt.datetime, dt.date, dt.time, uuid.UUID):
        # JSON carries these as strings; pydantic says whether the string parses.
        if not isinstance(value, str):
            return [f"{_at(path)}: expected {tp.__name__} string, got {_kind(value)}"]
        try:
            pydantic.TypeAdapter(tp).validate_python(value)
            return []
        except pydantic.ValidationError:
            return [f"{_at(path)}: {value!r} is not a valid {tp.__name__}"]
    elif tp is bytes:
        ok = isinstance(value, str)
    else:
        return [f"{_at(path)}: strict.py cannot check the type {tp!r} (extend it)"]
    if ok:
        return []
    return [f"{_at(path)}: expected {_json_name(tp)}, got {_kind(value)} {_short(value)}"]


def _walk_union(members: tuple, value: typing.Any, path: str, host: str | None) -> list[str]:
    """Accept when any member accepts; otherwise report the closest member's errors."""
    members = tuple(_resolve(m, host) for m in members)
    if value is None and any(m is type(None) or m is None for m in members):
        return []
    candidates = [m for m in members if m is not type(None) and m is not None]
    # Fern writes every enum as `Union[Literal[...], typing.Any]` so that a response carrying a
    # value newer than the SDK still parses. The Literal is the API's set; the Any is no promise
    # that the API takes anything. So a union of Literals and Any is closed: the Any is dropped.
    # (An explicit `str` member, as in Vapi's `Union[<voice id enum>, str]`, stays open.)
    if any(typing_extensions.get_origin(_strip_annotated(m)) in _LITERALS for m in candidates):
        candidates = [m for m in candidates if m is not typing.Any and m is not object]
    if value is None:
        return [f"{_at(path)}: null is not allowed here"]
    # Many unions of objects carry no discriminator marker but are tagged all the same (each
    # member has a Literal `type`): pick the members by the tag, as the platform does, so the
    # errors are those of the member the value says it is.
    tag = _implicit_tag(candidates, value)
    if tag is not None:
        key, tagged = tag
        if tagged is None:
            allowed = sorted({str(t) for m in candidates for t in _tags_of(m, key, literal_only=True)})
            return [f"{_at(_join(path, key))}: missing the tag key of the union (one of {allowed!r})"]
        if not tagged:
            allowed = sorted({str(t) for m in candidates for t in _tags_of(m, key, literal_only=True)})
            return [f"{_at(_join(path, key))}: {value[key]!r} is not one of the tag values {allowed!r}"]
        candidates = tagged
    results = []
    for m in candidates:
        errs = _walk(m, value, path, host)
        if not errs:
            return []
        results.append((m, errs))
    if len(results) == 1:
        return results[0][1]

    # Closest: a member whose JSON type matches beats one that failed at the root on type;
    # then fewest errors.
    def rank(item):
        _m, errs = item
        root_mismatch = len(errs) == 1 and errs[0].startswith(f"{_at(path)}: expected ")
        return (root_mismatch, len(errs))

    best, best_errs = min(results, key=rank)
    names = ", ".join(_name(m) for m, _ in results)
    return [f"{_at(path)}: matches no member of Union[{names}]; closest is {_name(best)}:"] + best_errs


def _implicit_tag(candidates: list, value: typing.Any) -> tuple[str, list] | None:
    """(key, members whose Literal at key holds value[key]) when every object member of the union
    has a Literal at one key the value carries; None when the union is not tagged that way."""
    if not isinstance(value, dict):
        return None
    objects = [m for m in candidates if _is_object_type(m)]
    if len(objects) < 2 or len(objects) != len(candidates):
        return None
    for key in value:
        tags = [_tags_of(m, key, literal_only=True) for m in objects]
        if all(tags):
            v = value[key]
            return key, [m for m, ts in zip(objects, tags) if any(t == v and type(t) is type(v) for t in ts)]
    # The value carries no tag: name the tag key the members share, if they share one.
    for key in _object_keys(objects[0]):
        if all(_tags_of(m, key, literal_only=True) for m in objects):
            return key, None
    return None


def _object_keys(tp: typing.Any) -> list[str]:
    tp = _strip_annotated(tp)
    if typing_extensions.is_typeddict(tp):
        return list(_typeddict_keys(tp))
    return list(_model_fields(tp))


def _is_object_type(tp: typing.Any) -> bool:
    tp = _strip_annotated(tp)
    return typing_extensions.is_typeddict(tp) or (isinstance(tp, type) and issubclass(tp, pydantic.BaseModel))


def _walk_discriminated(base: typing.Any, disc: str, value: typing.Any, path: str, host: str | None) -> list[str]:
    """A union whose member is chosen by the value of one key (`disc`)."""
    base = _resolve(base, host)
    members = [_resolve(m, host) for m in typing_extensions.get_args(base)] if typing_extensions.get_origin(base) in _UNIONS else [base]
    if value is None:
        return [] if type(None) in members else [f"{_at(path)}: null is not allowed here"]
    members = [m for m in members if m is not type(None)]
    if not isinstance(value, dict):
        return [f"{_at(path)}: expected object, got {_kind(value)} {_short(value)}"]
    by_tag: dict = {}
    for m in members:
        for tag in _tags_of(m, disc):
            by_tag.setdefault(tag, m)
    if disc not in value:
        return [f"{_at(path)}: missing discriminant key {disc!r} (one of {sorted(map(str, by_tag))!r})"]
    tag = value[disc]
    member = next((m for t, m in by_tag.items() if t == tag and type(t) is type(tag)), None)
    if member is None:
        return [f"{_at(_join(path, disc))}: {tag!r} is not one of the discriminant values {sorted(map(str, by_tag))!r}"]
    return _walk(member, value, path, host)


def _walk_sequence(tp: typing.Any, value: typing.Any, path: str, host: str | None) -> list[str]:
    if not isinstance(value, list):
        return [f"{_at(path)}: expected array, got {_kind(value)} {_short(value)}"]
    args = typing_extensions.get_args(tp)
    origin = typing_extensions.get_origin(tp)
    found: list[str] = []
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(value) != len(args):
            return [f"{_at(path)}: expected {len(args)} items, got {len(value)}"]
        for i, (item_tp, item) in enumerate(zip(args, value)):
            found += _walk(item_tp, item, f"{path}[{i}]", host)
        return found
    item_tp = args[0] if args else typing.Any
    for i, item in enumerate(value):
        found += _walk(item_tp, item, f"{path}[{i}]", host)
    return found


def _walk_mapping(tp: typing.Any, value: typing.Any, path: str, host: str | None) -> list[str]:
    if not isinstance(value, dict):
        return [f"{_at(path)}: expected object, got {_kind(value)} {_short(value)}"]
    args = typing_extensions.get_args(tp)
    key_tp, val_tp = (args[0], args[1]) if len(args) == 2 else (str, typing.Any)
    found: list[str] = []
    for k, v in value.items():
        found += [e for e in _walk(key_tp, k, _join(path, k), host) if key_tp is not str]
        found += _walk(val_tp, v, _join(path, k), host)
    return found


def _walk_model(model: type[pydantic.BaseModel], value: typing.Any, path: str) -> list[str]:
    """A pydantic model: keys by alias, required keys present, no other key (unless the model
    declares typed extras)."""
    if issubclass(model, pydantic.RootModel):
        return _walk(_model_fields(model)["root"][1], value, path, model.__module__)
    if not isinstance(value, dict):
        return [f"{_at(path)}: expected object ({model.__name__}), got {_kind(value)} {_short(value)}"]
    found: list[str] = []
    fields = _model_fields(model)  # json key -> (python name, annotation, required, host module)
    for key, (_name_, ann, required, host) in fields.items():
        if key in value:
            found += _walk(ann, value[key], _join(path, key), host)
        elif required:
            found.append(f"{_at(_join(path, key))}: missing required key ({model.__name__})")
    extra_tp = _declared_extras(model)
    for key in value:
        if key in fields:
            continue
        if extra_tp is not None:
            found += _walk(extra_tp, value[key], _join(path, key), model.__module__)
        else:
            found.append(f"{_at(_join(path, key))}: unknown key (not a field of {model.__name__})")
    return found


def _walk_typeddict(td: type, value: typing.Any, path: str) -> list[str]:
    """A TypedDict (Stainless' request params): keys by PropertyInfo alias, Required keys present."""
    if not isinstance(value, dict):
        return [f"{_at(path)}: expected object ({td.__name__}), got {_kind(value)} {_short(value)}"]
    found: list[str] = []
    keys = _typeddict_keys(td)
    for key, (ann, required, host) in keys.items():
        if key in value:
            found += _walk(ann, value[key], _join(path, key), host)
        elif required:
            found.append(f"{_at(_join(path, key))}: missing required key ({td.__name__})")
    for key in value:
        if key not in keys:
            found.append(f"{_at(_join(path, key))}: unknown key (not a key of {td.__name__})")
    return found


# ---------------------------------------------------------------------------------------------
# reading the SDK types


@functools.lru_cache(maxsize=None)
def _model_fields(model: type[pydantic.BaseModel]) -> dict:
    """json key -> (python name, annotation with its discriminator metadata, required, host module)."""
    out = {}
    for name, f in model.model_fields.items():
        key = f.alias or (f.validation_alias if isinstance(f.validation_alias, str) else None) or name
        ann = f.annotation
        # pydantic v2 lifts a field's top-level Annotated metadata into f.metadata: put a
        # discriminator back so the walk sees it.
        disc = _discriminant_of(f.metadata)
        if disc is None and isinstance(f.discriminator, str):
            disc = f.discriminator
        if disc is not None:
            ann = typing_extensions.Annotated[ann, _Disc(disc)]
        required = f.is_required() and not _is_optional(ann, _declaring_module(model, name))
        out[key] = (name, ann, required, _declaring_module(model, name))
    return out


@functools.lru_cache(maxsize=None)
def _typeddict_keys(td: type) -> dict:
    """json key -> (annotation, required, host module), honouring Required/NotRequired and aliases."""
    out = {}
    hints = {}
    # Hints per declaring class, so each is evaluated in its own module's namespace.
    for klass in reversed(td.__mro__):
        if not typing_extensions.is_typeddict(klass):
            continue
        for name, raw in getattr(klass, "__annotations__", {}).items():
            # Under `from __future__ import annotations` these are strings or ForwardRefs.
            if isinstance(raw, typing.ForwardRef):
                raw = raw.__forward_arg__
            if isinstance(raw, str):
                raw = _eval(raw, klass.__module__)
            hints[name] = (raw, klass.__module__, getattr(klass, "__total__", True))
    for name, (ann, host, total) in hints.items():
        required = total
        key = name
        inner = ann
        # Required/NotRequired and Annotated can nest either way round.
        for _ in range(3):
            origin = typing_extensions.get_origin(inner)
            if origin in _REQUIRED:
                required, inner = True, typing_extensions.get_args(inner)[0]
            elif origin in _NOT_REQUIRED:
                required, inner = False, typing_extensions.get_args(inner)[0]
            elif origin in _ANNOTATED:
                base, *meta = typing_extensions.get_args(inner)
                alias = next((m.alias for m in meta if isinstance(getattr(m, "alias", None), str)), None)
                if alias:
                    key = alias
                # keep the Annotated (it may carry a discriminator) but look inside for Required
                if typing_extensions.get_origin(base) in _REQUIRED | _NOT_REQUIRED:
                    required = typing_extensions.get_origin(base) in _REQUIRED
                    inner = typing_extensions.Annotated[(typing_extensions.get_args(base)[0], *meta)]
                break
            else:
                break
        out[key] = (inner, required, host)
    return out


class _Disc:
    """A discriminator marker put back on a field annotation (see _model_fields)."""

    def __init__(self, discriminant: str) -> None:
        self.discriminant = discriminant


def _discriminant_of(meta: typing.Iterable) -> str | None:
    """The discriminant key named by any of Fern's, Stainless' or pydantic's union markers."""
    for m in meta:
        d = getattr(m, "discriminant", None)  # Fern UnionMetadata, our _Disc
        if isinstance(d, str):
            return d
        d = getattr(m, "discriminator", None)  # Stainless PropertyInfo, pydantic Discriminator/FieldInfo
        if isinstance(d, str):
            return d
    return None


def _tags_of(member: typing.Any, disc: str, literal_only: bool = False) -> list:
    """The discriminant values a union member takes (from its Literal annotation, or else its
    default unless literal_only)."""
    member = _strip_annotated(member)
    ann = None
    default = None
    if isinstance(member, type) and issubclass(member, pydantic.BaseModel):
        for key, (name, a, _req, host) in _model_fields(member).items():
            if key == disc or name == disc:
                ann = _resolve(a, host)
                f = member.model_fields[name]
                default = f.default
    elif typing_extensions.is_typeddict(member):
        keys = _typeddict_keys(member)
        if disc in keys:
            ann = keys[disc][0]
    tags = []
    if ann is not None:
        ann = _strip_annotated(ann)
        for a in (typing_extensions.get_args(ann) if typing_extensions.get_origin(ann) in _UNIONS else (ann,)):
            a = _strip_annotated(a)
            if typing_extensions.get_origin(a) in _LITERALS:
                tags += list(typing_extensions.get_args(a))
            elif isinstance(a, type) and issubclass(a, enum.Enum):
                tags += [m.value for m in a]
    if not tags and not literal_only and isinstance(default, (str, int)):
        tags.append(default)
    return tags


def _strip_annotated(tp: typing.Any) -> typing.Any:
    while typing_extensions.get_origin(tp) in _ANNOTATED | _REQUIRED | _NOT_REQUIRED:
        tp = typing_extensions.get_args(tp)[0]
    return tp


def _is_optional(tp: typing.Any, host: str | None) -> bool:
    tp = _strip_annotated(_resolve(tp, host))
    if tp is typing.Any or tp is None or tp is type(None):
        return True
    if typing_extensions.get_origin(tp) in _UNIONS:
        return any(_resolve(a, host) in (None, type(None)) for a in typing_extensions.get_args(tp))
    return False


def _declared_extras(model: type[pydantic.BaseModel]) -> typing.Any | None:
    """A model may type its extra keys (`__pydantic_extra__: Dict[str, T]`): then extras are legal."""
    for klass in model.__mro__:
        ann = getattr(klass, "__annotations__", {}).get("__pydantic_extra__")
        if ann is not None:
            ann = _eval(ann, klass.__module__) if isinstance(ann, str) else ann
            args = typing_extensions.get_args(ann)
            return args[1] if len(args) == 2 else typing.Any
    return None


def _declaring_module(model: type, field: str) -> str:
    for klass in model.__mro__:
        if field in getattr(klass, "__annotations__", {}):
            return klass.__module__
    return model.__module__


def _is_sequence_alias(origin: typing.Any) -> bool:
    # Stainless' SequenceNotStr is a Protocol when type checking and Sequence at runtime.
    return getattr(origin, "__name__", "") == "SequenceNotStr"


# ---------------------------------------------------------------------------------------------
# forward references


def _host_of(tp: typing.Any) -> str | None:
    return getattr(_strip_annotated(tp), "__module__", None)


def _resolve(tp: typing.Any, host: str | None) -> typing.Any:
    """Turn a forward reference (a string, or typing.ForwardRef left unresolved by pydantic) into
    the type it names: in the host module's namespace, else in its package (Fern imports some
    union members only under TYPE_CHECKING and exports everything from `<sdk>.types`)."""
    if isinstance(tp, typing.ForwardRef):
        tp = tp.__forward_arg__
    if isinstance(tp, str):
        return _eval(tp, host)
    return tp


@functools.lru_cache(maxsize=None)
def _eval(expr: str, host: str | None) -> typing.Any:
    namespaces = []
    mod = sys.modules.get(host or "")
    if mod is not None:
        namespaces.append(vars(mod))
    # The package the module belongs to, and its parents, resolve through their lazy __getattr__.
    parts = (host or "").split(".")
    for i in range(len(parts) - 1, 0, -1):
        pkg = sys.modules.get(".".join(parts[:i]))
        if pkg is not None:
            namespaces.append(_LazyNamespace(pkg))
    base = {"typing": typing, "typing_extensions": typing_extensions}
    last: Exception | None = None
    for ns in namespaces:
        try:
            return eval(expr, {**base, **(ns if isinstance(ns, dict) else {})}, ns)  # noqa: S307 - SDK annotations
        except Exception as e:  # try the next namespace
            last = e
    raise TypeError(f"strict.py cannot resolve the forward reference {expr!r} from {host}: {last}")


class _LazyNamespace(dict):
    """A mapping view of a package whose names may be loaded lazily (module-level __getattr__)."""

    def __init__(self, pkg: types.ModuleType) -> None:
        super().__init__()
        self._pkg = pkg

    def __missing__(self, key: str) -> typing.Any:
        try:
            return getattr(self._pkg, key)
        except AttributeError:
            raise KeyError(key) from None


# ---------------------------------------------------------------------------------------------
# pydantic's own verdict


def _pydantic_errors(model: typing.Any, value: typing.Any, path: str) -> list[str]:
    try:
        if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
            model.model_validate(value)
        else:
            adapter = _adapter(model)
            if adapter is None:
                return []
            # pydantic validates an Iterable lazily (Stainless' request params use them): drain
            # the iterators so their items are validated too.
            return _drain(adapter.validate_python(value), value, path)
        return []
    except pydantic.ValidationError as exc:
        lines = [_pydantic_line(e, value, path) for e in exc.errors()]
        lines = list(dict.fromkeys(lines))
        if len(lines) > MAX_PYDANTIC_LINES:
            lines = lines[:MAX_PYDANTIC_LINES] + [f"{_at(path)}: pydantic: {len(lines) - MAX_PYDANTIC_LINES} more"]
        return lines


def _drain(result: typing.Any, value: typing.Any, path: str) -> list[str]:
    if isinstance(result, dict):
        return [
            line for k, v in result.items()
            for line in _drain(v, value.get(k) if isinstance(value, dict) else None, _join(path, k))
        ]
    if isinstance(result, (list, tuple)):
        sub = value if isinstance(value, list) else []
        return [
            line for i, v in enumerate(result)
            for line in _drain(v, sub[i] if i < len(sub) else None, f"{path}[{i}]")
        ]
    if type(result).__name__ == "ValidatorIterator":
        items = []
        try:
            items.extend(result)
        except pydantic.ValidationError as exc:
            return list(dict.fromkeys(_pydantic_line(e, value, path) for e in exc.errors()))
        return _drain(items, value, path)
    return []


def _pydantic_line(e: dict, value: typing.Any, path: str) -> str:
    """One pydantic error as a line at its JSON path. pydantic's `loc` also holds the names of the
    union members it tried (`voice.CreateAssistantDtoVoice_Azure.provider`); a segment that does not
    address into the value is such a tag, and the error is said once for the union, at its path."""
    where, current = path, value
    loc = list(e["loc"])
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            where, current = f"{where}[{part}]", current[part]
        elif isinstance(current, dict) and isinstance(part, str) and (part in current or (last and e["type"] == "missing")):
            where, current = _join(where, part), current.get(part)
        else:
            return f"{_at(where)}: pydantic: no member of the union accepts this value"
    return f"{_at(where)}: pydantic {e['type']}: {e['msg']}"


@functools.lru_cache(maxsize=None)
def _adapter(model: typing.Any) -> pydantic.TypeAdapter | None:
    try:
        return pydantic.TypeAdapter(model)
    except Exception:
        # Some SDK annotations (Protocols, unresolvable names) build no schema: the walk still runs.
        return None


# ---------------------------------------------------------------------------------------------
# wording


def _at(path: str) -> str:
    return path or "<root>"


def _join(path: str, key: typing.Any) -> str:
    key = str(key)
    simple = key.replace("_", "").replace("-", "").isalnum()
    if simple:
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _kind(value: typing.Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _json_name(tp: typing.Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(tp, _name(tp))


def _short(value: typing.Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _name(tp: typing.Any) -> str:
    tp = _strip_annotated(tp)
    if isinstance(tp, str):
        return tp
    if isinstance(tp, typing.ForwardRef):
        return tp.__forward_arg__
    if typing_extensions.get_origin(tp) in _LITERALS:
        return f"Literal{list(typing_extensions.get_args(tp))!r}"
    return getattr(tp, "__name__", None) or repr(tp).replace("typing.", "")
