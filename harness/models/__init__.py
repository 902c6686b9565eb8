"""Model zoo, quantized variants and the ONNX Runtime int8 deployment."""
