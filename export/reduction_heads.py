"""The PCA projection appended to the client and the reconstruction prepended to the cloud remainder."""
from __future__ import annotations

import torch
from torch import nn

from export.pca import PcaProjection


class PcaProjectionHead(nn.Module):
    """Flatten, subtract the PCA mean, project onto the k components: (1, C, H, W) -> (1, k)."""

    def __init__(self, projection: PcaProjection):
        super().__init__()
        self.mean: torch.Tensor
        self.register_buffer("mean", projection.mean.clone().unsqueeze(0))
        self.project = nn.Linear(projection.feature_size, projection.k, bias=False)
        with torch.no_grad():
            self.project.weight.copy_(projection.components)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        return self.project(torch.flatten(feature, 1) - self.mean)


class PcaReconstructionHead(nn.Module):
    """Map k coefficients back to the feature map: components^T, add the mean, reshape to (1, C, H, W)."""

    def __init__(self, projection: PcaProjection, feature_shape: tuple[int, ...]):
        super().__init__()
        self.feature_shape = tuple(feature_shape[1:])
        self.reconstruct = nn.Linear(projection.k, projection.feature_size, bias=False)
        self.register_buffer("mean", projection.mean.clone().unsqueeze(0))
        with torch.no_grad():
            self.reconstruct.weight.copy_(projection.components.t())

    def forward(self, coefficients: torch.Tensor) -> torch.Tensor:
        flat = self.reconstruct(coefficients) + self.mean
        return flat.reshape(coefficients.shape[0], *self.feature_shape)
