VALUE = "deeper"
