"""Quantizers: integer grids, observers, quantized layers and the methods that fit them."""
