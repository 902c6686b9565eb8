"""Variant specifications: which model, at which bit widths, quantized by which method.

A variant is written ``MODEL@BITS[:METHOD][+fl8]``:

- ``BITS`` is ``32`` (float), one width ``2``..``16`` for weights and activations alike,
  ``w4a8`` for separate widths, or ``int8`` for the deployed ONNX Runtime int8 model.
- ``METHOD`` is ``ptq``, ``bc`` (PTQ plus bias correction), ``gptq`` or ``qat``, optionally
  with the activation observer: ``ptq-minmax``, ``gptq-percentile``, ``qat-mse``. Method and
  observer default by width (see :func:`default_method` and :func:`default_observer`).
- ``+fl8`` keeps the first and last layer at 8 bits.

Several widths of one model share the model: ``efficientnet-lite0@32,8,4:qat,int8``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

from harness.errors import InvalidArgumentError
from harness.models.quantize.grid import FLOAT_BITS, MAX_BITS, MIN_BITS
from harness.models.quantize.observers import ObserverKind
from harness.models.zoo import DEFAULT_MODEL

STANDARD_WIDTHS = (32, 8, 5, 4, 2)


class QuantMethod(Enum):
    """How a variant's grids are chosen."""

    FLOAT = "fp32"
    PTQ = "ptq"
    BIAS_CORRECTION = "bc"
    GPTQ = "gptq"
    QAT = "qat"
    DEPLOYED = "int8"


@dataclass(frozen=True, kw_only=True)
class VariantSpec:
    """One variant of a model."""

    model: str = DEFAULT_MODEL
    weight_bits: int = FLOAT_BITS
    act_bits: int = FLOAT_BITS
    method: QuantMethod = QuantMethod.FLOAT
    observer: ObserverKind = ObserverKind.PERCENTILE
    """Activation range observer of the calibration step (see :func:`default_observer`)."""

    first_last_bits: int | None = None
    """Width of the first and last layer when it differs from the rest (8 or None)."""

    @property
    def is_float(self) -> bool:
        """Whether this is the unquantized model."""
        return self.method is QuantMethod.FLOAT

    @property
    def is_deployed(self) -> bool:
        """Whether this is the ONNX Runtime int8 model (not differentiable)."""
        return self.method is QuantMethod.DEPLOYED

    @property
    def bits_label(self) -> str:
        """Short width label: ``32``, ``8``, ``w4a8`` or ``int8``."""
        if self.is_deployed:
            return "int8"
        if self.weight_bits == self.act_bits:
            return str(self.weight_bits)
        return f"w{self.weight_bits}a{self.act_bits}"

    @property
    def method_label(self) -> str:
        """Method with its options, e.g. ``ptq-mse`` or ``qat+fl8``."""
        if self.is_float or self.is_deployed:
            return self.method.value
        label = self.method.value
        if self.observer is not default_observer(self.act_bits):
            label += f"-{self.observer.value}"
        if self.first_last_bits is not None:
            label += f"+fl{self.first_last_bits}"
        return label

    @property
    def name(self) -> str:
        """Canonical spelling, which :func:`parse_variants` reads back to this spec."""
        if self.is_float or self.is_deployed:
            return f"{self.model}@{self.bits_label}"
        return f"{self.model}@{self.bits_label}:{self.method_label}"

    @property
    def short_name(self) -> str:
        """Name without the model, for tables of one model: ``w4a4 qat``."""
        if self.is_float:
            return "fp32"
        if self.is_deployed:
            return "int8 (ONNX Runtime)"
        bits = f"w{self.weight_bits}a{self.act_bits}"
        return f"{bits} {self.method_label}"


def default_method(weight_bits: int, act_bits: int) -> QuantMethod:
    """Return the method used when a spec names none.

    PTQ keeps 8 bits and more within a point of fp32. Below 8 bits, plain rounding collapses
    and GPTQ recovers most of the accuracy in about two minutes on 2 cores. Distillation
    (``qat``) is better still at 4 bits and below but costs ten minutes or more, so it is
    opt-in.
    """
    narrowest = min(weight_bits, act_bits)
    if narrowest == FLOAT_BITS:
        return QuantMethod.FLOAT
    if narrowest >= 8:
        return QuantMethod.PTQ
    return QuantMethod.GPTQ


def default_observer(act_bits: int) -> ObserverKind:
    """Return the activation observer used when a spec names none.

    Percentile ranges suit 5 bits and more. At 4 bits and below, clipping more of the tail
    pays off: on 500 ImageNet sample images, W32A4 (first and last layer at 8 bits) scored
    79.4 % top-1 with MSE ranges against 77.2 % with 99.99th-percentile ranges.
    """
    return ObserverKind.MSE if act_bits <= 4 else ObserverKind.PERCENTILE


_BITS = re.compile(r"^(?:w(?P<w>\d+)a(?P<a>\d+)|(?P<both>\d+)|(?P<int8>int8))$")


def parse_variant(text: str, model: str = DEFAULT_MODEL) -> VariantSpec:
    """Parse ``[MODEL@]BITS[:METHOD][+fl8]`` into a spec.

    Raises:
        InvalidArgumentError: unknown method, or a width outside 2..16 and not 32.
    """
    text = text.strip()
    if "@" in text:
        model, _, text = text.partition("@")
        model = model.strip()

    first_last: int | None = None
    if "+" in text:
        text, _, option = text.partition("+")
        if option != "fl8":
            raise InvalidArgumentError(
                f"unknown variant option '+{option}': the only option is '+fl8' (first and "
                "last layer at 8 bits)"
            )
        first_last = 8

    bits_text, _, method_text = text.partition(":")
    match = _BITS.match(bits_text.strip().lower())
    if match is None:
        raise InvalidArgumentError(
            f"invalid bit width {bits_text!r} in variant: expected 32, a width 2..16, "
            "wBaB such as w4a8, or int8"
        )
    if match.group("int8"):
        if method_text:
            raise InvalidArgumentError(f"the int8 variant takes no method, got {method_text!r}")
        return VariantSpec(model=model, weight_bits=8, act_bits=8, method=QuantMethod.DEPLOYED)

    if match.group("both"):
        weight_bits = act_bits = int(match.group("both"))
    else:
        weight_bits, act_bits = int(match.group("w")), int(match.group("a"))
    for bits in (weight_bits, act_bits):
        check_bits(bits)

    spec = VariantSpec(model=model, weight_bits=weight_bits, act_bits=act_bits)
    if weight_bits == act_bits == FLOAT_BITS:
        return spec
    method, observer = _parse_method(method_text, weight_bits, act_bits)
    return replace(spec, method=method, observer=observer, first_last_bits=first_last)


def check_bits(bits: int) -> None:
    """Raise :class:`InvalidArgumentError` unless ``bits`` is 2..16 or 32."""
    if bits != FLOAT_BITS and not MIN_BITS <= bits <= MAX_BITS:
        raise InvalidArgumentError(
            f"bit width {bits} is not supported: expected {MIN_BITS}..{MAX_BITS}, "
            f"or {FLOAT_BITS} for float"
        )


def _parse_method(text: str, weight_bits: int, act_bits: int) -> tuple[QuantMethod, ObserverKind]:
    text = text.strip().lower()
    if not text:
        return default_method(weight_bits, act_bits), default_observer(act_bits)

    name, _, observer_text = text.partition("-")
    methods = {
        m.value: m for m in QuantMethod if m not in (QuantMethod.FLOAT, QuantMethod.DEPLOYED)
    }
    if name not in methods:
        raise InvalidArgumentError(
            f"unknown quantization method {text!r}: expected one of {', '.join(methods)} "
            "(each may end in -minmax, -percentile or -mse)"
        )
    observer = default_observer(act_bits)
    if observer_text:
        observers = {o.value: o for o in ObserverKind}
        if observer_text not in observers:
            raise InvalidArgumentError(
                f"invalid observer in method {text!r}: expected -minmax, -percentile or -mse"
            )
        observer = observers[observer_text]
    return methods[name], observer


def parse_variants(text: str, default_model: str = DEFAULT_MODEL) -> list[VariantSpec]:
    """Parse a comma-separated list; widths without ``MODEL@`` belong to the model before them.

    ``efficientnet-lite0@32,8,4:qat,int8`` gives four variants of efficientnet-lite0; a bare
    model name gives its fp32 variant.

    Raises:
        InvalidArgumentError: an item is invalid or the list is empty.
    """
    specs: list[VariantSpec] = []
    model = default_model
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if "@" in item:
            model = item.partition("@")[0].strip()
            specs.append(parse_variant(item))
        elif _BITS.match(item.partition(":")[0].partition("+")[0].lower()):
            specs.append(parse_variant(item, model))
        else:
            model = item
            specs.append(VariantSpec(model=model))
    if not specs:
        raise InvalidArgumentError(f"no variants in {text!r}: expected e.g. {DEFAULT_MODEL}@32,8,4")
    return list(dict.fromkeys(specs))


def standard_sweep(model: str = DEFAULT_MODEL) -> list[VariantSpec]:
    """Return fp32, 8, 5, 4 and 2 bits with their default methods, and the deployed int8."""
    specs = [parse_variant(str(bits), model) for bits in STANDARD_WIDTHS]
    return [*specs, parse_variant("int8", model)]
