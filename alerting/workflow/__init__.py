"""The handling workflow (签收 → 核查反馈 → 处置 → 销号) with deadlines and 督办 up the chain."""
