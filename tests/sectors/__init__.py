"""Sectors defined in the test suite, to prove the seam between briefgen's machinery and a sector."""
