"""ch8_tensors: declared by its issue."""
EXERCISES = []
