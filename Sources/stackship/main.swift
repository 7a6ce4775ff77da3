print("stackship")
