"""EDite-HRNet-S / -L (and a tiny test variant): Dite-HRNet-18 with EDMC blocks and Enhanced ConvBNs.

Work in progress: the builders are wired onto pose.models.dite_hrnet as soon as it lands.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn


def _pending(name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        raise NotImplementedError(f"{name} is being built on pose.models.dite_hrnet; not available yet")

    return build


VARIANTS: dict[str, Callable[[], nn.Module]] = {
    name: _pending(name) for name in ("edite_hrnet_s", "edite_hrnet_l", "edite_hrnet_tiny")
}
