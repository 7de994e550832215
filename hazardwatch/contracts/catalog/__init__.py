"""The catalog of sites, devices, sensors and vehicles (DESIGN.md §3), shared by every service."""

from hazardwatch.contracts.catalog.index import Catalog
from hazardwatch.contracts.catalog.load import CatalogError, load_catalog

__all__ = ["Catalog", "CatalogError", "load_catalog"]
