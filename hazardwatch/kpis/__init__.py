"""Assessment figures (考核指标): pure formulas over counters, one concept per module."""
