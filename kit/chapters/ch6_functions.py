"""ch6_functions: declared by its issue."""
EXERCISES = []
