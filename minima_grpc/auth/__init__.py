"""Bearer-key authentication: the protocol, and the factory that picks an implementation."""

from __future__ import annotations

from minima_grpc.auth.embedded import EmbeddedAuthenticator
from minima_grpc.auth.keys import KeyStore
from minima_grpc.auth.protocol import Authenticator, Principal
from minima_grpc.config import Config

__all__ = ["Authenticator", "Principal", "build_authenticator"]


def build_authenticator(config: Config) -> Authenticator:
    """The authenticator for `config.memory`: keys issued here, or passed through to Mubit."""
    if config.memory == "mubit":
        # Imported here: mubit-sdk is only loaded when the Mubit backend is chosen.
        from minima_grpc.auth.mubit_passthrough import build_passthrough_authenticator

        return build_passthrough_authenticator(config)
    return EmbeddedAuthenticator(KeyStore(config.keys_path))
