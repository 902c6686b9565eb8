"""patch-harness: test adversarial patches against quantized image classifiers."""

__version__ = "0.1.0"
