"""Memory backends: one protocol (protocol.py), interchangeable implementations."""
