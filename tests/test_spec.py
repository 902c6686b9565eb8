import pytest

from harness.errors import InvalidArgumentError
from harness.models.quantize.observers import ObserverKind
from harness.models.spec import (
    QuantMethod,
    VariantSpec,
    parse_variant,
    parse_variants,
    standard_sweep,
)


def test_parse_widths_share_model() -> None:
    specs = parse_variants("efficientnet-lite0@32,8,w4a8:ptq-mse,int8,resnet18@5")
    assert [s.name for s in specs] == [
        "efficientnet-lite0@32",
        "efficientnet-lite0@8:ptq",
        "efficientnet-lite0@w4a8:ptq-mse",
        "efficientnet-lite0@int8",
        "resnet18@5:gptq",
    ]
    assert specs[2].weight_bits == 4
    assert specs[2].act_bits == 8
    assert specs[2].observer is ObserverKind.MSE
    assert specs[3].method is QuantMethod.DEPLOYED


def test_name_round_trips() -> None:
    for text in (
        "m@4:qat+fl8",
        "m@w2a16:bc-minmax",
        "m@int8",
        "m@32",
        "m@8:gptq",
        "m@4:ptq-percentile",
    ):
        spec = parse_variant(text)
        assert parse_variant(spec.name) == spec


def test_default_methods_by_width() -> None:
    methods = {s.bits_label: s.method for s in standard_sweep()}
    assert methods == {
        "32": QuantMethod.FLOAT,
        "8": QuantMethod.PTQ,
        "5": QuantMethod.GPTQ,
        "4": QuantMethod.GPTQ,
        "2": QuantMethod.GPTQ,
        "int8": QuantMethod.DEPLOYED,
    }


def test_bare_model_is_fp32() -> None:
    assert parse_variants("resnet18") == [VariantSpec(model="resnet18")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("m@1", "bit width 1 is not supported: expected 2..16, or 32"),
        ("m@17", "bit width 17 is not supported"),
        ("m@w4a33", "bit width 33 is not supported"),
        ("m@4bits", "invalid bit width '4bits'"),
        ("m@4:magic", "unknown quantization method 'magic'"),
        ("m@4:gptq-max", "invalid observer"),
        ("m@4+fl4", r"unknown variant option '\+fl4'"),
        ("m@int8:ptq", "the int8 variant takes no method"),
        (",", "no variants"),
    ],
)
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        parse_variants(text)
