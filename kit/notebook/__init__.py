"""The kit in a notebook (Jupyter, Colab): checks in a cell, and the chapter notebooks.

- checks.py: `kit.check(square_grad)` (kit/check.py makes that module callable), the same check
  as pytest's on the functions and classes a notebook defines; `kit.check()` checks all of them
- scan.py: the notebook's cells as the autograd scan reads them, before a check runs them
- show.py: what a check shows in its cell: HTML (the pictures as inline SVG), or plain text
- chapters.py: `kit notebook --out DIR`, one .ipynb per chapter, generated from the stubs
"""
