"""Brands, beneficiaries, impact units and campaigns: the definitions pledges are made under."""
