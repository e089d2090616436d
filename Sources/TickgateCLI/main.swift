print("tickgate")
