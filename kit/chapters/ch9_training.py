"""ch9_training: declared by its issue."""
EXERCISES = []
