"""Adversarial patches: physical transforms (EOT), placement, losses and optimisation.

``harness.patch.apply`` works on its own: it composites a saved patch into a batch of
images under given or sampled conditions, with no optimiser involved.
"""
