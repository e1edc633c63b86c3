"""Pure rules: money, ids, impact units, campaigns, pledge computation. No I/O here."""
