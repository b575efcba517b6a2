"""ch5_backprop_by_hand: declared by its issue."""
EXERCISES = []
