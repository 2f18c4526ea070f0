print("twentyq")
