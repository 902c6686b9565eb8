"""The virtual camera: a printed patch rendered into scenes at known pose, light and blur."""
