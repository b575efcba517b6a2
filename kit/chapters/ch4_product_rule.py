"""ch4_product_rule: declared by its issue."""
EXERCISES = []
