"""Decidim (Rosario Participa) as a source of the registry: its GraphQL API (client.py) and open-data ZIP
(opendata.py) read into one snapshot, mapped to instances, activities and commitments (mapping.py), and kept in
step by external id (sync.py). docs/import.md, "Decidim", describes the mapping and the rules."""
