"""The catalogue of published layers: one definition serves features, tiles, PMTiles archives and styles."""
