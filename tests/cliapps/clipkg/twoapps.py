from erlen import Flask

first = Flask("first")
second = Flask("second")
