"""Which campaign a sold product counts for, per connection.

Platforms identify products differently (Shopify and WooCommerce SKUs, Stripe price lookup
keys or product metadata, retailer GTINs), so a connection holds an ordered list of rules and
the first one that matches wins; a product no rule matches is sold but pledges nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

from wefirst.errors import invalid
from wefirst.ingest.connectors.gtin import gtin_problem, normalise
from wefirst.ingest.connectors.records import ProductRef


class MappingKind(StrEnum):
    SKU = "sku"
    """`pattern` is a case-sensitive glob on the SKU: `PAMPERS-*`."""
    LOOKUP_KEY = "lookup_key"
    """`pattern` is a glob on a Stripe price's `lookup_key` (the SKU when `sku` is not set)."""
    METADATA = "metadata"
    """`pattern` is `key=glob` on a Stripe product's metadata: `line=pampers*`."""
    VARIANT = "variant"
    """`pattern` is a Shopify variant id or WooCommerce product/variation id; `sku` says which
    SKU it is (Shopify sends `sku: ""` for products without one)."""
    GTIN = "gtin"
    """`pattern` is a GTIN and `sku` the brand SKU it is: the retailer-report catalogue."""


_NEEDS_SKU = frozenset({MappingKind.VARIANT, MappingKind.GTIN})


@dataclass(frozen=True, slots=True)
class MappingRule:
    kind: MappingKind
    pattern: str
    campaign_id: str | None = None
    sku: str | None = None

    def __post_init__(self) -> None:
        if not self.pattern or len(self.pattern) > 200:
            raise invalid("pattern", "must be 1 to 200 characters")
        if self.kind is MappingKind.GTIN:
            problem = gtin_problem(self.pattern)
            if problem:
                raise invalid("pattern", problem)
        if self.kind in _NEEDS_SKU and not self.sku:
            raise invalid("sku", f"a {self.kind} rule names the SKU the product is")
        if self.kind is MappingKind.SKU and not self.campaign_id:
            raise invalid("campaign_id", "a sku rule names a campaign")
        if self.kind is MappingKind.METADATA and "=" not in self.pattern:
            raise invalid("pattern", "a metadata rule is key=glob")

    def matches(self, product: ProductRef, sku: str | None) -> bool:
        if self.kind is MappingKind.SKU:
            return sku is not None and fnmatchcase(sku, self.pattern)
        if self.kind is MappingKind.LOOKUP_KEY:
            return product.lookup_key is not None and fnmatchcase(product.lookup_key, self.pattern)
        if self.kind is MappingKind.METADATA:
            key, _, glob = self.pattern.partition("=")
            value = product.metadata.get(key)
            return value is not None and fnmatchcase(value, glob)
        if self.kind is MappingKind.VARIANT:
            return self.pattern in (product.variant_id, product.product_id)
        return False


@dataclass(frozen=True, slots=True)
class Resolved:
    sku: str | None
    campaign_id: str | None
    """None with `mapped` true: the brand's campaigns' own SKU patterns decide."""
    mapped: bool


@dataclass(frozen=True, slots=True)
class ProductMapping:
    """Campaigns already match SKUs themselves, so rules do two jobs: find the SKU of products
    that have none (variant ids, Stripe lookup keys or metadata, GTINs), and, when any rule
    names a campaign, restrict the connection to those campaigns: an unmatched product then
    pledges nothing, which keeps a shop's unrelated catalogue out of a campaign."""

    rules: tuple[MappingRule, ...]

    @classmethod
    def of(cls, rules: Sequence[MappingRule]) -> ProductMapping:
        return cls(tuple(rules))

    def sku_of(self, product: ProductRef, sku: str | None) -> str | None:
        if sku:
            return sku
        for rule in self.rules:
            if rule.kind is MappingKind.VARIANT and rule.matches(product, None):
                return rule.sku
        return product.metadata.get("sku") or product.lookup_key

    def resolve(self, product: ProductRef, sku: str | None) -> Resolved:
        effective = self.sku_of(product, sku)
        restricting = [r for r in self.rules if r.campaign_id]
        if not restricting:
            return Resolved(effective, None, effective is not None)
        for rule in restricting:
            if rule.matches(product, effective):
                return Resolved(rule.sku or effective, rule.campaign_id, True)
        return Resolved(effective, None, False)

    # ProductCatalog (sales reports)
    def sku_known(self, sku: str) -> bool:
        return self.resolve(ProductRef(sku=sku), sku).mapped

    def sku_for_gtin(self, gtin14: str) -> str | None:
        for rule in self.rules:
            if rule.kind is MappingKind.GTIN and normalise(rule.pattern) == gtin14:
                return rule.sku
        return None
