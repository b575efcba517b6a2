"""ch3_power_rule: declared by its issue."""
EXERCISES = []
