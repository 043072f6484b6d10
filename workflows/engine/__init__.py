"""The engine: plain functions that are the only writers of run and step run state."""
