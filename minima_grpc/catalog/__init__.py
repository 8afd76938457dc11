"""The model catalog: prices, context windows and capability priors."""

from minima_grpc.catalog.loader import CatalogError, load_catalog, packaged_catalog_path
from minima_grpc.catalog.model import Catalog, CatalogEntry

__all__ = ["Catalog", "CatalogEntry", "CatalogError", "load_catalog", "packaged_catalog_path"]
