"""ch2_chain_rule: declared by its issue."""
EXERCISES = []
