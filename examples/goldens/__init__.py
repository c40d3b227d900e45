"""Golden scenarios and the deterministic example target they run against."""
