"""The Citizen Participation Index (method version 1): grid, accessibility, pillars, composite, runs."""
