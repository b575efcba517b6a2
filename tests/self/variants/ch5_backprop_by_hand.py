WRONG = []
RIGHT = []
