"""ONNX Runtime: fp32 export and the deployed int8 model, run as an edge device runs it.

The deployed variant is the float model exported to ONNX and quantized by ONNX Runtime's
static quantizer: QDQ format, int8 weights per output channel, uint8 activations per tensor,
min-max calibration on scene images. ONNX Runtime fuses each DequantizeLinear → Conv →
QuantizeLinear group into an integer kernel (QLinearConv), so inference runs in int8.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from torch import nn

from harness.errors import ModelLoadError
from harness.models.preprocess import Preprocessing
from harness.models.zoo import first_line

logger = logging.getLogger(__name__)

INPUT_NAME = "images"
OUTPUT_NAME = "logits"


def export_onnx(module: nn.Module, input_size: int, path: Path) -> None:
    """Export a (B, 3, S, S) → (B, K) classifier to ONNX with a dynamic batch axis.

    A fake-quant variant keeps its roundings: grid weights become float constants and each
    input rounding becomes explicit float operations (see ``QuantizedLayer.quantize_input``),
    so ONNX Runtime computes the same variant at about the speed of the float model.
    """
    example = torch.rand(1, 3, input_size, input_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


class _ImageReader(CalibrationDataReader):  # type: ignore[misc]
    def __init__(self, images: torch.Tensor, input_name: str, batch_size: int = 16) -> None:
        self._batches: Iterator[np.ndarray] = iter(
            images[start : start + batch_size].numpy()
            for start in range(0, len(images), batch_size)
        )
        self._input_name = input_name

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {self._input_name: batch}


def quantize_int8(float_onnx: Path, output: Path, images: torch.Tensor) -> None:
    """Write a static int8 QDQ model of ``float_onnx``, calibrated on (N, 3, S, S) ``images``."""
    prepared = output.with_name(output.stem + "-prepared.onnx")
    quant_pre_process(str(float_onnx), str(prepared), skip_symbolic_shape=True)
    input_name = _input_name(prepared)
    quantize_static(
        str(prepared),
        str(output),
        _ImageReader(images, input_name),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    prepared.unlink(missing_ok=True)


def _input_name(path: Path) -> str:
    model = onnx.load(str(path), load_external_data=False)
    return str(model.graph.input[0].name)


class OnnxClassifier:
    """An ONNX Runtime session that maps (B, 3, S, S) images in [0, 1] to (B, K) logits.

    Models exported by the harness normalise inside the graph. A user's ONNX file expects
    normalised input, so ``normalisation`` is applied before the session runs.
    """

    def __init__(
        self,
        path: Path,
        *,
        threads: int | None = None,
        optimized_path: Path | None = None,
        normalisation: Preprocessing | None = None,
    ) -> None:
        options = ort.SessionOptions()
        # The CLI's --threads sets torch's thread count; ONNX Runtime follows it.
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Without VNNI, ONNX Runtime's x86 int8 kernels add u8 × s8 products in pairs into
        # saturating 16-bit sums. This option makes the sums exact at a small cost in speed
        # (int8 latency with it is in docs/results.md).
        options.add_session_config_entry("session.x64quantprecision", "1")
        if optimized_path is not None:
            options.optimized_model_filepath = str(optimized_path)
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=_providers()
            )
        except Exception as error:  # ORT raises its own untyped errors for bad files.
            raise ModelLoadError(
                f"cannot load ONNX model {str(path)!r}: {first_line(error)}; "
                "check that the file is a complete ONNX model"
            ) from error
        self.path = path
        self.normalisation = normalisation
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        images = images.detach().cpu().float()
        if self.normalisation is not None:
            images = self.normalisation.normalise(images)
        try:
            (logits,) = self.session.run(None, {self.input_name: images.numpy()})[:1]
        except Exception as error:  # ORT reports shape and type mismatches untyped.
            expected = self.session.get_inputs()[0].shape
            raise ModelLoadError(
                f"ONNX model {str(self.path)!r} rejected input of shape {tuple(images.shape)}: "
                f"{first_line(error)}; it expects {expected}, so set input_size in the JSON "
                "file beside the model"
            ) from error
        return torch.from_numpy(np.asarray(logits))

    def operator_counts(self) -> dict[str, int]:
        """Count the operators of the model file (before ONNX Runtime's own fusions)."""
        model = onnx.load(str(self.path), load_external_data=False)
        counts: dict[str, int] = {}
        for node in model.graph.node:
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
        return counts


def _providers() -> list[str]:
    available = ort.get_available_providers()
    if torch.cuda.is_available() and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]
