"""ch7_engine: declared by its issue."""
EXERCISES = []
