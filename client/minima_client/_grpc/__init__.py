"""The gRPC transport (optional extra `grpc`); imported only for grpc:// URLs."""
